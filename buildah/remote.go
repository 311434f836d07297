package buildah

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
)

// isHTTPSource: ADD downloads http(s) URLs (git URLs aside).
func isHTTPSource(src string) bool {
	return (strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://")) && !IsGitSource(src)
}

// download is a file ADD fetched from a URL.
type download struct {
	url  string
	name string // the file name, from the URL's path
	file string // where it is on the host
	// modTime is the Last-Modified time (the zero time when the server
	// sent none: the file then gets the time of the download).
	modTime time.Time
	digest  digest.Digest
	size    int64
}

// urlFileName is the name a downloaded file gets in a directory: the last
// element of the URL's path, as BuildKit names it.
func urlFileName(raw string) string {
	u, err := url.Parse(raw)
	if err == nil {
		if base := path.Base(u.Path); base != "." && base != "/" {
			return base
		}
	}
	return "__unnamed__"
}

// parseChecksum reads ADD --checksum: sha256:<hex>, the only algorithm
// BuildKit accepts for http sources.
func parseChecksum(s string) (digest.Digest, error) {
	d, err := digest.Parse(s)
	if err != nil || d.Algorithm() != digest.SHA256 {
		return "", fmt.Errorf("--checksum=%s: want sha256:<64 hexadecimal digits>", s)
	}
	return d, nil
}

// OpenURL GETs rawURL (for ADD, and build contexts and Containerfiles
// given as URLs); any status but 200 is an error naming the URL, worded
// as podman's.
func OpenURL(ctx context.Context, rawURL string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("reading %q: %w", rawURL, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reading %q: %w", rawURL, err)
	}
	if resp.StatusCode != http.StatusOK {
		_ = resp.Body.Close()
		return nil, fmt.Errorf("reading %q: invalid response status %s", rawURL, resp.Status)
	}
	return resp, nil
}

// fetch downloads rawURL into dir through the host's network (the proxy
// environment variables apply) and checks its digest against want (if
// set).
func fetch(ctx context.Context, rawURL, dir string, want digest.Digest) (*download, error) {
	resp, err := OpenURL(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	f, err := os.CreateTemp(dir, "download-")
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("reading %q: %w", rawURL, err)
	}
	d := &download{
		url:    rawURL,
		name:   urlFileName(rawURL),
		file:   f.Name(),
		digest: digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(h.Sum(nil))),
		size:   n,
	}
	if want != "" && d.digest != want {
		return nil, fmt.Errorf("reading %q: checksum mismatch: the content is %s, --checksum wants %s", rawURL, d.digest, want)
	}
	if lm := resp.Header.Get("Last-Modified"); lm != "" {
		if t, err := http.ParseTime(lm); err == nil {
			d.modTime = t
		}
	}
	return d, nil
}

// item is the downloaded file as a source: mode 0600 as docker gives it,
// the Last-Modified time (else now).
func (d *download) item(unpack bool) copyItem {
	mt := d.modTime
	if mt.IsZero() {
		mt = time.Now()
	}
	return copyItem{
		host: d.file, rel: d.url, name: d.name, unpack: unpack,
		info: &sourceInfo{name: filepath.Base(d.file), size: d.size, mode: 0o600, modTime: mt},
	}
}

// sourceInfo describes a source berth made (a download, a here-document)
// with the metadata it is to have, rather than the temporary file's.
type sourceInfo struct {
	name    string
	size    int64
	mode    fs.FileMode
	modTime time.Time
}

func (i *sourceInfo) Name() string       { return i.name }
func (i *sourceInfo) Size() int64        { return i.size }
func (i *sourceInfo) Mode() fs.FileMode  { return i.mode }
func (i *sourceInfo) ModTime() time.Time { return i.modTime }
func (i *sourceInfo) IsDir() bool        { return false }
func (i *sourceInfo) Sys() any           { return nil }
