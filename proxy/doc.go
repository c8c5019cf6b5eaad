// Package proxy is Socketbar's embedded reverse proxy for trying WebSocket
// routes without touching the Server, and (in wstest) the connection tester.
//
// The proxy answers only the routes it is given, longest path first, with
// Apache's ProxyPass path rules, so a route that works here is written the
// same way in the Service Proxy. Plain HTTP goes through
// net/http/httputil.ReverseProxy; WebSocket upgrades are relayed frame by
// frame, so that shutdown can send each client a 1001 "going away" close
// frame at a frame boundary and the log can count what went each way.
package proxy
