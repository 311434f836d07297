package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.podman.io/image/v5/pkg/compression"
)

// tarBytes makes a tar archive of name -> content, in the order given.
func tarBytes(t *testing.T, files ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := 0; i+1 < len(files); i += 2 {
		content := files[i+1]
		if err := tw.WriteHeader(&tar.Header{Name: files[i], Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipBytes(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zstdBytes(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := compression.CompressStream(&buf, compression.Zstd, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDetectFormatArchives(t *testing.T) {
	big := strings.Repeat("layer data ", 10000)
	docker := tarBytes(t, "abc.tar", big, "abc.json", "{}", "manifest.json", "[]")
	oci := tarBytes(t, "oci-layout", `{"imageLayoutVersion":"1.0.0"}`, "blobs/sha256/abc", big, "index.json", "{}")
	both := tarBytes(t, "./oci-layout", "{}", "./index.json", "{}", "./manifest.json", "[]", "./blobs/sha256/x", big)
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"docker-archive", docker, FormatDockerArchive},
		{"gzip docker-archive", gzipBytes(t, docker), FormatDockerArchive},
		{"zstd docker-archive", zstdBytes(t, docker), FormatDockerArchive},
		{"oci-archive", oci, FormatOCIArchive},
		{"gzip oci-archive", gzipBytes(t, oci), FormatOCIArchive},
		{"docker >= 25 writes both", both, FormatDockerArchive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DetectFormat(writeTemp(t, "archive", tt.data))
			if err != nil || got != tt.want {
				t.Errorf("DetectFormat = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestDetectFormatBadArchives(t *testing.T) {
	big := strings.Repeat("x", 100000)
	docker := tarBytes(t, "layer.tar", big, "manifest.json", "[]")
	gz := gzipBytes(t, docker)
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty file", nil, "empty"},
		{"not a tar", []byte(strings.Repeat("garbage!", 200)), "not a tar archive"},
		{"truncated in a file", docker[:50000], "truncated or corrupt"},
		{"truncated gzip", gz[:len(gz)/2], "truncated or corrupt"},
		{"rootfs, not an image", tarBytes(t, "bin/sh", "x", "etc/passwd", "root"), "neither a docker-archive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DetectFormat(writeTemp(t, "archive", tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("DetectFormat = %q, %v; want an error containing %q", got, err, tt.want)
			}
		})
	}
	if _, err := DetectFormat(filepath.Join(t.TempDir(), "missing")); !os.IsNotExist(err) {
		t.Errorf("DetectFormat(missing file) = %v, want a not-exist error", err)
	}
}

func TestDetectFormatDirectories(t *testing.T) {
	mk := func(files ...string) string {
		dir := t.TempDir()
		for _, f := range files {
			if err := os.WriteFile(filepath.Join(dir, f), []byte("{}"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	if got, err := DetectFormat(mk("oci-layout", "index.json")); err != nil || got != FormatOCIDir {
		t.Errorf("OCI layout: %q, %v; want %q", got, err, FormatOCIDir)
	}
	if got, err := DetectFormat(mk("manifest.json", "version")); err != nil || got != FormatDockerDir {
		t.Errorf("docker-dir: %q, %v; want %q", got, err, FormatDockerDir)
	}
	if _, err := DetectFormat(mk("something")); err == nil || !strings.Contains(err.Error(), "neither an OCI layout") {
		t.Errorf("plain directory: %v, want an error saying what is missing", err)
	}
}

func TestCheckTarball(t *testing.T) {
	rootfs := tarBytes(t, "bin/sh", strings.Repeat("x", 50000), "etc/passwd", "root:x:0:0::/root:/bin/sh\n")
	if err := checkTarball(writeTemp(t, "ok.tar", rootfs)); err != nil {
		t.Errorf("valid tarball: %v", err)
	}
	if err := checkTarball(writeTemp(t, "ok.tar.gz", gzipBytes(t, rootfs))); err != nil {
		t.Errorf("valid gzip tarball: %v", err)
	}
	if err := checkTarball(writeTemp(t, "cut.tar", rootfs[:20000])); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("truncated tarball: %v, want a truncation error", err)
	}
	if err := checkTarball(writeTemp(t, "junk", bytes.Repeat([]byte{0xde, 0xad}, 600))); err == nil {
		t.Error("junk passed as a tarball")
	}
}

func TestOCIImageName(t *testing.T) {
	tests := []struct {
		ann  map[string]string
		want string
	}{
		{nil, ""},
		{map[string]string{"org.opencontainers.image.ref.name": "localhost/a:1"}, "localhost/a:1"},
		{map[string]string{"org.opencontainers.image.ref.name": "latest", "io.containerd.image.name": "docker.io/library/b:2"}, "docker.io/library/b:2"},
	}
	for _, tt := range tests {
		if got := ociImageName(tt.ann); got != tt.want {
			t.Errorf("ociImageName(%v) = %q, want %q", tt.ann, got, tt.want)
		}
	}
}
