// Package elevate runs a change to the Service Proxy config as root after one
// administrator prompt, and makes sure that only what the administrator
// approved runs.
//
// # The two halves
//
// The unprivileged half ([Apply]) writes the plan and the new text of each
// file of the change into a private folder (0700, files 0600) and asks
// osascript to run `socketbar apply-plan PLAN PLAN_SHA256 NEW NEW_SHA256`
// with administrator privileges, NEW being the main config's new text. The
// SHA-256 of both travels in the argv that the prompt covers, and the plan
// records the hash of every other file's new text, so all of them are tied
// to the moment the password was typed.
//
// The elevated half ([RunPlan]) reads each file once, without following
// links, checks its hash, and works only from the verified bytes. It never
// runs a program named by the plan: it discovers the Server again as root and
// runs the Server's own httpd, and only when that binary and every folder
// above it belong to root and nobody else may write them. Its answer is one
// JSON line whose errors keep their type ([serverctl.ConfigTestError],
// [serverctl.RestartError], [serverctl.ErrChangedOnDisk], …), so the CLI and
// the app show the same messages with and without elevation.
//
// # Cancelling
//
// Only osascript's user-cancel code (-128) means the person dismissed the
// prompt ([ErrCancelled]); any other failure is reported as such.
package elevate
