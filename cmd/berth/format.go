package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"text/template"
	"unicode"

	"github.com/docker/go-units"
)

// templateFuncs are the helpers podman offers in --format templates.
var templateFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
	"lower": strings.ToLower,
	"upper": strings.ToUpper,
	"title": strings.Title, //nolint:staticcheck // podman compatibility
	"join":  strings.Join,
	"split": strings.Split,
	"truncate": func(s string, n int) string {
		if len(s) > n {
			return s[:n]
		}
		return s
	},
	"pad": func(s string, n int) string { return fmt.Sprintf("%-*s", n, s) },
}

// parseTemplate compiles a podman-style --format: "{{json .}}", a plain
// template (\t and \n escapes expanded), or "table ..." (a header row,
// columns aligned; as podman, every space of a table format separates
// columns).
func parseTemplate(format string) (tmpl *template.Template, table bool, err error) {
	format, table = normalizeFormat(format)
	tmpl, err = template.New("format").Funcs(templateFuncs).Parse(format)
	if err != nil {
		return nil, false, fmt.Errorf("invalid --format template: %w", err)
	}
	return tmpl, table, nil
}

// normalizeFormat is podman's NormalizeFormat: a table format loses its
// "table" keyword and its spaces become tabs; other formats get their
// escapes expanded. Either ends with a newline.
func normalizeFormat(format string) (string, bool) {
	table := false
	switch {
	case format == "table":
		table, format = true, ""
	case strings.HasPrefix(format, "table "):
		table = true
		format = strings.NewReplacer("table ", "", `\t`, "\t", " ", "\t").Replace(format)
	default:
		format = strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(format)
	}
	if !strings.HasSuffix(format, "\n") {
		format += "\n"
	}
	return format, table
}

// printTemplate renders one value.
func printTemplate(format string, v any) error {
	tmpl, _, err := parseTemplate(format)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, v); err != nil {
		return fmt.Errorf("rendering --format template: %w", err)
	}
	_, err = os.Stdout.Write(buf.Bytes())
	return err
}

// printRows renders rows with a template. A "table" format gets a header
// row (titles from headers: field name -> column title; none if headers
// is nil) and its columns
// aligned as podman aligns them (cells at least 12 wide, 2 apart); other
// formats are printed as they render.
func printRows[T any](w io.Writer, format string, rows []T, headers map[string]string) error {
	tmpl, table, err := parseTemplate(format)
	if err != nil {
		return err
	}
	if !table {
		var buf bytes.Buffer
		for i := range rows {
			if err := tmpl.Execute(&buf, rows[i]); err != nil {
				return fmt.Errorf("rendering --format template: %w", err)
			}
		}
		_, err := w.Write(buf.Bytes())
		return err
	}
	// tabwriter writes each cell and its padding separately: buffered, a
	// table of 1,000 rows is a few writes instead of 15,000.
	bw := bufio.NewWriterSize(w, 64<<10)
	tw := tabwriter.NewWriter(bw, 12, 2, 2, ' ', 0)
	if hdr := headerRow(format, headers); headers != nil && hdr != "" {
		fmt.Fprintln(tw, hdr)
	}
	for i := range rows {
		if err := tmpl.Execute(tw, rows[i]); err != nil {
			_ = bw.Flush() // what tabwriter let through, as unbuffered
			return fmt.Errorf("rendering --format template: %w", err)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return bw.Flush()
}

// headerRow turns "table {{.ID}}\t{{.Size}}" into "IMAGE ID\tSIZE".
func headerRow(format string, headers map[string]string) string {
	format, _ = normalizeFormat(format)
	format = strings.TrimSuffix(format, "\n")
	var out strings.Builder
	for len(format) > 0 {
		start := strings.Index(format, "{{")
		if start < 0 {
			out.WriteString(format)
			break
		}
		out.WriteString(format[:start])
		end := strings.Index(format[start:], "}}")
		if end < 0 {
			break
		}
		field := strings.TrimSpace(format[start+2 : start+end])
		field = strings.TrimPrefix(field, ".")
		if i := strings.IndexAny(field, " \t|"); i >= 0 {
			field = field[:i]
		}
		if h, ok := headers[field]; ok {
			out.WriteString(h)
		} else {
			out.WriteString(strings.ToUpper(field))
		}
		format = format[start+end+2:]
	}
	return out.String()
}

// humanSize is a size as podman's tables print it: three significant
// digits, a space before the unit ("7.8 MB").
func humanSize(n int64) string {
	s := units.HumanSizeWithPrecision(float64(n), 3)
	i := strings.LastIndexFunc(s, unicode.IsDigit)
	return s[:i+1] + " " + s[i+1:]
}

// printJSONIndent prints v indented by indent.
func printJSONIndent(v any, indent string) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", indent)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "    ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
