// Package service drives the Service Proxy: restarts it and says whether
// it runs (launchd on a Mac, the httpd binary itself elsewhere), and
// verifies that a restart came back on every port it listens on.
package service
