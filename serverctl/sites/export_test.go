package sites

// LoadTree lets the external tests (which may import apachetest, and so
// serverctl, which imports this package) load a fixture tree.
var LoadTree = loadTree
