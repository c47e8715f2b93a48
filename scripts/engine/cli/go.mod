// Wrapper module that builds the Pulumi CLI from the Go module proxy (see scripts/engine.sh).
module kafka-cluster.invalid/engine/cli

go 1.25.11

require (
	github.com/pulumi/pulumi/pkg/v3 v3.259.0
	github.com/pulumi/pulumi/sdk/v3 v3.259.0
)

// pkg/v3's only non-local replace directive, repeated here because replaces apply only in the main module.
replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
