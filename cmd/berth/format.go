package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"text/template"
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
// template, or "table ..." (a header row, columns aligned).
func parseTemplate(format string) (tmpl *template.Template, table bool, err error) {
	format = strings.ReplaceAll(format, `\t`, "\t")
	format = strings.ReplaceAll(format, `\n`, "\n")
	if strings.HasPrefix(format, "table ") || format == "table" {
		table = true
		format = strings.TrimSpace(strings.TrimPrefix(format, "table"))
	}
	if !strings.HasSuffix(format, "\n") {
		format += "\n"
	}
	tmpl, err = template.New("format").Funcs(templateFuncs).Parse(format)
	if err != nil {
		return nil, false, fmt.Errorf("invalid --format template: %w", err)
	}
	return tmpl, table, nil
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

// printRows renders rows with a template; for "table" formats the header
// comes from headers (field name -> column title).
func printRows[T any](w io.Writer, format string, rows []T, headers map[string]string) error {
	tmpl, table, err := parseTemplate(format)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	if table {
		hdr := headerRow(format, headers)
		if hdr != "" {
			fmt.Fprintln(tw, hdr)
		}
	}
	for i := range rows {
		if err := tmpl.Execute(tw, rows[i]); err != nil {
			return fmt.Errorf("rendering --format template: %w", err)
		}
	}
	return tw.Flush()
}

// headerRow turns "table {{.ID}}\t{{.Size}}" into "IMAGE ID\tSIZE".
func headerRow(format string, headers map[string]string) string {
	format = strings.TrimSpace(strings.TrimPrefix(strings.ReplaceAll(format, `\t`, "\t"), "table"))
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
		if i := strings.IndexAny(field, " |"); i >= 0 {
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

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "    ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
