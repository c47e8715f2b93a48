// Wrapper module that builds the Pulumi Node.js language host from the Go module proxy (see scripts/engine.sh).
// Up to sdk v3.68.0 the language host lived inside github.com/pulumi/pulumi/sdk/v3.
module kafka-cluster.invalid/engine/language-nodejs

go 1.24

require github.com/pulumi/pulumi/sdk/v3 v3.68.0

// sdk/v3 v3.68.0's go.mod pins golang.org/x/text with this replace; repeated because replaces apply only in the main module.
replace golang.org/x/text => golang.org/x/text v0.3.6
