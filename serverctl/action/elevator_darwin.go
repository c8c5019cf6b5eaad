package action

import "github.com/socketbar/socketbar/serverctl/run"

// platformElevator: macOS asks for an administrator's password.
func platformElevator(self string) Elevator {
	if self == "" {
		return nil
	}
	return PromptElevator{Runner: run.Exec{}, Self: self}
}
