package main

import (
	"fmt"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/berth-containers/berth/pkg/image"
	"github.com/docker/go-units"
	"github.com/spf13/cobra"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/storage/pkg/stringid"
)

// imageSummary holds podman's ImageSummary fields, addressed by their
// names in --format templates ({{.Labels}}, {{.Containers}}, ...); the
// methods of imageRow shadow the ones podman prints for people (ID, Size,
// Created, History).
type imageSummary struct {
	Id          string // podman's template name
	ParentId    string
	RepoTags    []string
	RepoDigests []string
	Created     int64
	Size        int64
	SharedSize  int
	VirtualSize int64
	Labels      map[string]string
	Containers  int
	ReadOnly    bool
	Dangling    bool
	Names       []string
	Digest      string
	History     []string
}

// imageRow is one line of `berth images`: a repository and tag of an
// image (podman lists an image once per tag).
type imageRow struct {
	Repository string
	Tag        string
	imageSummary
	summary *image.Summary
	noTrunc bool
}

func (r imageRow) ID() string {
	if r.noTrunc {
		return "sha256:" + r.Id
	}
	return stringid.TruncateID(r.Id)
}

func (r imageRow) created() time.Time   { return time.Unix(r.imageSummary.Created, 0) }
func (r imageRow) Created() string      { return humanSince(r.created()) }
func (r imageRow) CreatedSince() string { return r.Created() }
func (r imageRow) CreatedAt() string    { return r.created().String() }
func (r imageRow) CreatedTime() string  { return r.CreatedAt() }
func (r imageRow) History() string      { return strings.Join(r.imageSummary.History, ", ") }

// Size is podman's: a space between the number and the unit.
func (r imageRow) Size() string { return humanSize(r.imageSummary.Size) }

func humanSince(t time.Time) string {
	if t.IsZero() {
		return "N/A"
	}
	return units.HumanDuration(time.Since(t)) + " ago"
}

// imageJSON is podman's `images --format json` element.
type imageJSON struct {
	ID          string            `json:"Id"`
	ParentID    string            `json:"ParentId"`
	RepoTags    []string          `json:"RepoTags"`
	RepoDigests []string          `json:"RepoDigests"`
	Size        int64             `json:"Size"`
	SharedSize  int               `json:"SharedSize"`
	VirtualSize int64             `json:"VirtualSize"`
	Labels      map[string]string `json:"Labels"`
	Containers  int               `json:"Containers"`
	ReadOnly    bool              `json:"ReadOnly,omitempty"`
	Names       []string          `json:"Names,omitempty"`
	Digest      string            `json:"Digest"`
	History     []string          `json:"History,omitempty"`
	Created     int64             `json:"Created"`
	CreatedAt   string            `json:"CreatedAt"`
	Dangling    bool              `json:"Dangling,omitempty"`
}

var imageHeaders = map[string]string{
	"ID": "IMAGE ID", "Repository": "REPOSITORY", "Tag": "TAG", "Digest": "DIGEST",
	"Created": "CREATED", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT",
	"Size": "SIZE", "VirtualSize": "SIZE", "ReadOnly": "R/O", "Containers": "CONTAINERS",
	"Names": "NAMES", "Dangling": "DANGLING",
}

func newImagesCommand(use string) *cobra.Command {
	var all, quiet, noTrunc, digests, noHeading bool
	var filters []string
	var format, sortBy string
	cmd := &cobra.Command{
		Use:   use + " [options] [IMAGE]",
		Short: "List images in local storage",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ir, err := imageRuntime()
			if err != nil {
				return err
			}
			if len(args) == 1 {
				filters = append(filters, "reference="+args[0])
			}
			match, err := parseImageFilters(ir, filters)
			if err != nil {
				return err
			}
			list, err := ir.List()
			if err != nil {
				return err
			}
			var kept []image.Summary
			for i := range list {
				if !all && list[i].Intermediate {
					continue
				}
				ok, err := match(&list[i])
				if err != nil {
					return err
				}
				if ok {
					kept = append(kept, list[i])
				}
			}
			if format == "json" {
				return printImagesJSON(ir, kept)
			}
			rows := imageRows(ir, kept, noTrunc)
			if err := sortImageRows(rows, sortBy); err != nil {
				return err
			}
			if quiet {
				seen := map[string]bool{}
				for _, r := range rows {
					if id := r.ID(); !seen[id] {
						seen[id] = true
						fmt.Println(id)
					}
				}
				return nil
			}
			if format == "" {
				format = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Created}}\t{{.Size}}"
				if digests {
					format = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.Created}}\t{{.Size}}"
				}
			}
			headers := imageHeaders
			if noHeading {
				headers = nil
			}
			return printRows(os.Stdout, format, rows, headers)
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&all, "all", "a", false, "show all images (default hides intermediate images)")
	fl.BoolVarP(&quiet, "quiet", "q", false, "display only image IDs")
	fl.BoolVar(&noTrunc, "no-trunc", false, "do not truncate output")
	fl.BoolVar(&digests, "digests", false, "show digests")
	fl.BoolVarP(&noHeading, "noheading", "n", false, "do not print column headings")
	fl.StringArrayVarP(&filters, "filter", "f", nil, "filter output based on conditions provided")
	fl.StringVar(&format, "format", "", "change the output format to JSON or a Go template")
	fl.StringVar(&sortBy, "sort", "created", "sort by created, id, repository, size or tag")
	return cmd
}

// summarize gathers what podman's ImageSummary holds about an image, from
// an index of the store made once for the whole listing (nil: none could
// be read, as for an image removed meanwhile).
func summarize(ix *image.Index, s *image.Summary) imageSummary {
	sum := imageSummary{
		Id: s.ID, RepoTags: nonNilStrings(s.Names), RepoDigests: []string{}, Created: s.Created.Unix(),
		Size: s.Size, VirtualSize: s.Size, Containers: s.Containers, ReadOnly: s.ReadOnly, Dangling: s.Dangling(),
		Names: s.Names, Digest: string(s.Digest), History: s.NamesHistory,
	}
	if ix == nil {
		return sum
	}
	if img := ix.Image(s.ID); img != nil {
		sum.RepoDigests = image.RepoDigests(img)
		if cfg, err := ix.Config(img); err == nil {
			sum.Labels = cfg.Config.Labels
		}
		sum.ParentId = ix.ParentID(img)
	}
	return sum
}

// newIndex indexes the store for summarize; a failure leaves the fields
// that need it empty, as a failed lookup of one image did.
func newIndex(ir *image.Runtime) *image.Index {
	ix, err := ir.NewIndex()
	if err != nil {
		return nil
	}
	return ix
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// imageRows makes one row per tagged name, as podman does: names without
// a tag (by digest) show only when the image has no tagged name, as one
// <none> row.
func imageRows(ir *image.Runtime, list []image.Summary, noTrunc bool) []imageRow {
	var rows []imageRow
	ix := newIndex(ir)
	for i := range list {
		s := &list[i]
		base := imageRow{imageSummary: summarize(ix, s), summary: s, noTrunc: noTrunc,
			Repository: "<none>", Tag: "<none>"}
		var tagged, untagged []imageRow
		for _, n := range s.Names {
			row := base
			row.Repository, row.Tag = splitName(n)
			if row.Tag == "<none>" {
				untagged = append(untagged, row)
			} else {
				tagged = append(tagged, row)
			}
		}
		switch {
		case len(tagged) > 0:
			rows = append(rows, tagged...)
		case len(untagged) > 0:
			rows = append(rows, untagged[0])
		default:
			rows = append(rows, base)
		}
	}
	return rows
}

func splitName(name string) (repo, tag string) {
	named, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return name, "<none>"
	}
	repo, tag = named.Name(), "<none>"
	if t, ok := named.(reference.Tagged); ok {
		tag = t.Tag()
	}
	return repo, tag
}

func sortImageRows(rows []imageRow, by string) error {
	var less func(a, b *imageRow) bool
	switch by {
	case "created":
		less = func(a, b *imageRow) bool { return a.summary.Created.After(b.summary.Created) }
	case "id":
		less = func(a, b *imageRow) bool { return a.Id < b.Id }
	case "repository":
		less = func(a, b *imageRow) bool { return a.Repository < b.Repository }
	case "tag":
		less = func(a, b *imageRow) bool { return a.Tag < b.Tag }
	case "size":
		less = func(a, b *imageRow) bool { return a.summary.Size < b.summary.Size }
	default:
		return fmt.Errorf("invalid option for --sort, options are: [created id repository size tag]")
	}
	sort.SliceStable(rows, func(i, j int) bool { return less(&rows[i], &rows[j]) })
	return nil
}

func printImagesJSON(ir *image.Runtime, list []image.Summary) error {
	out := make([]imageJSON, 0, len(list))
	ix := newIndex(ir)
	for i := range list {
		s := summarize(ix, &list[i])
		out = append(out, imageJSON{
			ID: s.Id, ParentID: s.ParentId, RepoTags: s.RepoTags, RepoDigests: s.RepoDigests, Size: s.Size,
			SharedSize: s.SharedSize, VirtualSize: s.VirtualSize, Labels: s.Labels, Containers: s.Containers,
			ReadOnly: s.ReadOnly, Names: s.Names, Digest: s.Digest, History: s.History, Created: s.Created,
			CreatedAt: time.Unix(s.Created, 0).UTC().Format(time.RFC3339Nano), Dangling: s.Dangling,
		})
	}
	return printJSON(out)
}

// parseImageFilters compiles --filter values; several filters must all match,
// several values of one key match if any does (as podman).
func parseImageFilters(ir *image.Runtime, filters []string) (func(*image.Summary) (bool, error), error) {
	byKey := map[string][]string{}
	for _, f := range filters {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("invalid image filter %q: must be in the format \"filter=value\"", f)
		}
		switch k {
		case "dangling", "label", "reference", "before", "since", "after", "id", "readonly", "intermediate", "until",
			"containers", "digest":
		default:
			return nil, fmt.Errorf("unsupported image filter %q", k)
		}
		byKey[k] = append(byKey[k], v)
	}
	var tests []func(*image.Summary) (bool, error)
	for k, values := range byKey {
		for _, v := range values {
			t, err := imageFilter(ir, k, v)
			if err != nil {
				return nil, err
			}
			tests = append(tests, t)
		}
	}
	return func(s *image.Summary) (bool, error) {
		for _, t := range tests {
			ok, err := t(s)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	}, nil
}

func imageFilter(ir *image.Runtime, key, value string) (func(*image.Summary) (bool, error), error) {
	switch key {
	case "dangling", "readonly", "intermediate", "containers":
		want := value == "true"
		if value != "true" && value != "false" {
			return nil, fmt.Errorf("invalid %s filter value %q: must be true or false", key, value)
		}
		return func(s *image.Summary) (bool, error) {
			switch key {
			case "dangling":
				return s.Dangling() == want, nil
			case "readonly":
				return s.ReadOnly == want, nil
			case "containers":
				return (s.Containers > 0) == want, nil
			}
			return s.Intermediate == want, nil
		}, nil
	case "id":
		return func(s *image.Summary) (bool, error) {
			return strings.HasPrefix(s.ID, strings.TrimPrefix(value, "sha256:")), nil
		}, nil
	case "digest":
		return func(s *image.Summary) (bool, error) {
			if string(s.Digest) == value {
				return true, nil
			}
			for _, d := range s.Digests {
				if string(d) == value {
					return true, nil
				}
			}
			return false, nil
		}, nil
	case "reference":
		return func(s *image.Summary) (bool, error) { return matchReference(s.Names, value), nil }, nil
	case "label":
		k, v, hasValue := strings.Cut(value, "=")
		return func(s *image.Summary) (bool, error) {
			img, err := ir.Lookup(s.ID)
			if err != nil {
				return false, nil
			}
			cfg, err := ir.Config(img)
			if err != nil {
				return false, nil
			}
			got, ok := cfg.Config.Labels[k]
			return ok && (!hasValue || got == v), nil
		}, nil
	case "before", "since", "after":
		ref, err := ir.Lookup(value)
		if err != nil {
			return nil, fmt.Errorf("%s filter: %w", key, err)
		}
		return func(s *image.Summary) (bool, error) {
			if key == "before" {
				return s.Created.Before(ref.Created), nil
			}
			return s.Created.After(ref.Created), nil
		}, nil
	case "until":
		d, err := time.ParseDuration(value)
		var cut time.Time
		if err == nil {
			cut = time.Now().Add(-d)
		} else if cut, err = time.Parse(time.RFC3339, value); err != nil {
			return nil, fmt.Errorf("invalid until filter %q: use a duration (10m) or an RFC3339 time", value)
		}
		return func(s *image.Summary) (bool, error) { return s.Created.Before(cut), nil }, nil
	}
	return nil, fmt.Errorf("unsupported image filter %q", key)
}

// matchReference matches a name pattern the way podman's reference filter
// does: against the full name, or against its trailing path components.
func matchReference(names []string, pattern string) bool {
	for _, n := range names {
		named, err := reference.ParseNormalizedNamed(n)
		if err != nil {
			continue
		}
		full := named.String()
		repo := named.Name()
		tagPattern := ""
		if i := strings.LastIndex(pattern, ":"); i > strings.LastIndex(pattern, "/") {
			tagPattern = pattern[i+1:]
		}
		repoPattern := strings.TrimSuffix(pattern, ":"+tagPattern)
		tag := ""
		if t, ok := named.(reference.Tagged); ok {
			tag = t.Tag()
		}
		if ok, _ := path.Match(pattern, full); ok {
			return true
		}
		parts := strings.Split(repo, "/")
		for i := range parts {
			if ok, _ := path.Match(repoPattern, strings.Join(parts[i:], "/")); ok {
				if tagPattern == "" {
					return true
				}
				if ok, _ := path.Match(tagPattern, tag); ok {
					return true
				}
			}
		}
	}
	return false
}
