package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"

	"github.com/socketbar/socketbar/serverctl/elevate"
)

// bindApplyPlan binds the elevated half of a change made through the
// administrator prompt: its arguments are the plan, the new text and
// their digests, which package elevate checks and runs.
func bindApplyPlan(e *Env, fs *flag.FlagSet) runFunc {
	return func(ctx context.Context, pos []string) error {
		return applyPlanRun(ctx, e, pos)
	}
}

// applyPlanRun runs the plan and prints its result as one line of JSON,
// which the unprivileged half reads.
func applyPlanRun(ctx context.Context, e *Env, args []string) error {
	res := elevate.RunPlan(ctx, args)
	data, err := json.Marshal(res)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Stdout, "%s\n", data)
	if !res.OK {
		return errReported
	}
	return nil
}
