// Package action is every action a person takes with Socketbar, once, for
// both front ends: the CLI and the menu-bar app only gather input and
// present results.
//
// Each action takes typed options and returns a typed result and typed
// errors ([serverctl.InputError] for refused input, [NeedsRootError] when
// this user may not write the config and nothing can elevate,
// [serverctl.ConfigTestError], [serverctl.RestartError], …). Nothing here
// words a flag or a form field: each front end says that in its own terms.
//
// Changes to the config come in two steps, so that a preview and a dry run
// show exactly what Apply writes: a Propose… call computes a [Proposal]
// (the old and new text, notes, the strategy chosen and why), and
// [Local.Apply] puts it in place through the transaction, through the
// administrator prompt when the config belongs to root.
//
// Results are views: plain data a front end shows as it is (a route with
// its VirtualHost's label and where to test it, a history entry with what
// became of it, the demo's addresses), with the few data types of the
// model they carry named here by alias. No Server, parsed config or
// Applier leaves this package, so that an Actions for a Server elsewhere
// can fill the same views. [Local.Pulse] is the cheap read a watcher
// repeats between full [Local.Status] reads.
//
// [Actions] is the set a front end needs; [Local] carries it out on this
// machine, and front-end tests substitute a recorder.
package action
