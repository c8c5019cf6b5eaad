//go:build !darwin

package action

// platformElevator: elsewhere there is no prompt; the person uses sudo.
func platformElevator(string) Elevator { return nil }
