package main

import (
	"encoding/json"
	"flag"
	"fmt"

	"github.com/socketbar/socketbar/serverctl/elevate"
)

// applyPlanCommand is the elevated half of a change made through the
// administrator prompt; all of it lives in package elevate.
var applyPlanCommand = command{
	name: elevate.Command, args: []string{"PLAN", "PLAN_SHA256", "NEW", "NEW_SHA256"}, hidden: true,
	summary: "Run one approved transaction as root (used by socketbar itself after the administrator prompt).",
	flags: func(c *cli, fs *flag.FlagSet) func([]string) error {
		return func(pos []string) error {
			res := elevate.RunPlan(c.ctx, pos)
			data, err := json.Marshal(res)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "%s\n", data)
			if !res.OK {
				return errReported
			}
			return nil
		}
	},
}
