package libpod

// Version is berth's version; cmd/berth sets it from its build flags.
var Version = "0.1.0-dev"
