// Package parse turns the values of berth's command-line options (ports,
// volumes, mounts, environment, limits, security options, ...) into typed
// values, with podman's syntax and rules.
//
// It is a pure library: it does not create volumes, talk to storage or
// execute anything. The only host state it reads is what the syntax itself
// refers to: the file named by --env-file, and the current directory for a
// relative bind-mount source such as "-v ./dir:/dst".
//
// Errors are written for the person who typed the option: they quote the
// offending value and say what is expected.
package parse
