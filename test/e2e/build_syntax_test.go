package e2e

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// syntaxBuildCases cover the Containerfile's syntax and the instructions'
// finer points: directives, continuations, ARG scoping and the automatic
// ARGs, USER names, stage references.
var syntaxBuildCases = []buildCase{
	{
		name:       "escape-directive-backtick",
		dockerfile: "# escape=`\nFROM {{BASE}}\nRUN echo one `\n    two > /joined\nENV WIN=C:\\dir\n",
		run:        map[string]string{"cat /joined; echo $WIN": "one two\nC:\\dir"},
	},
	{
		name: "line-continuations-and-comments",
		dockerfile: `FROM {{BASE}}
# a comment before
RUN echo a \
# a comment inside the continuation is dropped
    b \
    c > /abc
LABEL one=1 \
      two=2
`,
		run:     map[string]string{"cat /abc": "a b c"},
		inspect: map[string]string{"{{.Config.Labels.one}}{{.Config.Labels.two}}": "12"},
	},
	{
		name: "arg-in-from-and-redeclared",
		dockerfile: `ARG BASE={{BASE}}
ARG SUFFIX=-x
FROM ${BASE}
ARG SUFFIX
RUN echo "suffix$SUFFIX base[$BASE]" > /args
`,
		run: map[string]string{"cat /args": "suffix-x base[]"},
	},
	{
		name: "automatic-platform-args",
		dockerfile: `FROM {{BASE}}
ARG TARGETARCH
ARG TARGETOS
ARG BUILDPLATFORM
RUN echo "$TARGETOS/$TARGETARCH $BUILDPLATFORM" > /plat
`,
		after: func(t *testing.T, e *Env, ctx string) {
			want := "linux/" + hostArch() + " linux/" + hostArch()
			if got := e.runIn("localhost/e2e/build-automatic-platform-args", "cat /plat"); got != want {
				t.Errorf("platform args = %q, want %q", got, want)
			}
		},
	},
	{
		name: "from-platform-of-the-host",
		dockerfile: `FROM --platform=$BUILDPLATFORM {{BASE}}
RUN echo ok > /ok
`,
		run: map[string]string{"cat /ok": "ok"},
	},
	{
		name:       "from-platform-of-another-arch-is-refused",
		dockerfile: "FROM --platform=linux/s390x {{BASE}}\n",
		wantCode:   125,
		stderr:     []string{"Containerfile:1:", "linux/s390x is not supported yet"},
	},
	{
		name: "user-name-and-group-resolved",
		dockerfile: `FROM {{BASE}}
USER nobody:nobody
RUN id -un > /tmp/who && id -gn >> /tmp/who
`,
		run:     map[string]string{"cat /tmp/who": "nobody\nnobody"},
		inspect: map[string]string{"{{.Config.User}}": "nobody:nobody"},
	},
	{
		name:       "user-unknown-name-fails-the-run",
		dockerfile: "FROM {{BASE}}\nUSER nosuchuser\nRUN true\n",
		wantCode:   125,
		stderr:     []string{"nosuchuser"},
	},
	{
		name: "workdir-made-for-the-user",
		dockerfile: `FROM {{BASE}}
USER nobody
WORKDIR /home/nobody/work
RUN touch made
USER root
`,
		run: map[string]string{"stat -c %u:%g /home /home/nobody /home/nobody/work /home/nobody/work/made": "0:0\n65534:65534\n65534:65534\n65534:65534"},
	},
	{
		name: "legacy-env-and-label-forms",
		dockerfile: `FROM {{BASE}}
ENV GREETING hello world
LABEL "quoted key"="a \"quoted\" value"
`,
		run:     map[string]string{`echo "$GREETING"`: "hello world"},
		inspect: map[string]string{`{{index .Config.Labels "quoted key"}}`: `a "quoted" value`},
	},
	{
		name: "workdir-expands-env",
		dockerfile: `FROM {{BASE}}
ENV APP=/srv/app
WORKDIR $APP/bin
RUN pwd > /where
`,
		run:     map[string]string{"cat /where": "/srv/app/bin"},
		inspect: map[string]string{"{{.Config.WorkingDir}}": "/srv/app/bin"},
	},
	{
		name: "stage-chain-inherits-config",
		dockerfile: `FROM {{BASE}} AS one
ENV FROM_ONE=1
WORKDIR /one
FROM one AS two
ENV FROM_TWO=2
FROM two
RUN echo "$FROM_ONE$FROM_TWO $(pwd)" > /chain
`,
		run: map[string]string{"cat /chain": "12 /one"},
	},
	{
		name: "copy-from-stage-number-and-image",
		dockerfile: `FROM {{BASE}}
RUN echo zero > /zero
FROM {{BASE}}
COPY --from=0 /zero /from-stage
COPY --from={{BASE}} /etc/passwd /from-image-passwd
`,
		run: map[string]string{"cat /from-stage; head -1 /from-image-passwd": "zero\nroot:x:0:0:root:/root:/bin/sh"},
	},
	{
		name: "stop-signal-number-and-volume-json",
		dockerfile: `FROM {{BASE}}
STOPSIGNAL 9
VOLUME ["/a", "/b"]
`,
		inspect: map[string]string{"{{.Config.StopSignal}}": "9", "{{json .Config.Volumes}}": `{"/a":{},"/b":{}}`},
	},
	{
		name: "proxy-args-reach-run-but-not-the-image",
		dockerfile: `FROM {{BASE}}
RUN echo "proxy=$HTTP_PROXY" > /proxy
`,
		flags:   []string{"--build-arg", "HTTP_PROXY=http://proxy.invalid:3128"},
		run:     map[string]string{"cat /proxy; echo env=$HTTP_PROXY": "proxy=http://proxy.invalid:3128\nenv="},
		inspect: map[string]string{"{{(index .History 1).CreatedBy}}": "/bin/sh -c echo \"proxy=$HTTP_PROXY\" > /proxy"},
	},
	{
		name: "entrypoint-exec-with-cmd-args",
		dockerfile: `FROM {{BASE}}
ENTRYPOINT ["/bin/echo", "hello"]
CMD ["world"]
`,
		after: func(t *testing.T, e *Env, ctx string) {
			out := e.BerthOK("run", "--rm", "--network", "none", "localhost/e2e/build-entrypoint-exec-with-cmd-args").Out()
			if out != "hello world" {
				t.Errorf("run printed %q, want the entrypoint with CMD's arguments", out)
			}
		},
	},
	{
		name:       "syntax-error-names-the-line",
		dockerfile: "FROM {{BASE}}\nRUN true\nENV\n",
		wantCode:   125,
		stderr:     []string{"line 3", "ENV"},
	},
	{
		name:       "copy-from-a-later-stage-is-refused",
		dockerfile: "FROM {{BASE}} AS first\nCOPY --from=later /x /x\nFROM {{BASE}} AS later\nFROM first\n",
		wantCode:   125,
		stderr:     []string{"Containerfile:2:", "defined after this one"},
	},
	{
		name: "syntax-directive-is-noted",
		dockerfile: `# syntax=docker/dockerfile:1.7
FROM {{BASE}}
RUN echo built > /built
`,
		run:    map[string]string{"cat /built": "built"},
		stderr: []string{`ignoring the syntax directive "docker/dockerfile:1.7"`},
	},
	{
		name: "copy-fifo-keeps-its-mode",
		prepare: func(t *testing.T, e *Env, ctx string) {
			fifo := filepath.Join(ctx, "fifo")
			if err := syscall.Mkfifo(fifo, 0o666); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(fifo, 0o666); err != nil {
				t.Fatal(err)
			}
			if e.user != nil {
				if err := os.Chown(fifo, e.user.UID, e.user.GID); err != nil {
					t.Fatal(err)
				}
			}
		},
		dockerfile: "FROM {{BASE}}\nCOPY fifo /fifo\n",
		run:        map[string]string{"stat -c '%F %a %u' /fifo": "fifo 666 0"},
	},
	{
		name:       "empty-containerfile",
		dockerfile: "# nothing here\n",
		wantCode:   125,
		stderr:     []string{"file with no instructions"},
	},
}

func init() { buildCaseTables = append(buildCaseTables, syntaxBuildCases) }
