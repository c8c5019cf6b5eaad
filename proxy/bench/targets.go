package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/socketbar/socketbar/proxy/tlscert"
)

// runBackend is the echo backend's process: it prints its address, echoes
// every message, and exits when its standard input closes.
func runBackend() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr())
	go func() {
		buf := make([]byte, 1)
		os.Stdin.Read(buf)
		os.Exit(0)
	}()
	http.Serve(ln, echoHandler())
}

// echoHandler only echoes: proxy.EchoHandler's opening report would be
// read as the answer to the first timed message.
func echoHandler() http.Handler {
	up := websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024, CheckOrigin: func(*http.Request) bool { return true }}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			kind, msg, err := c.ReadMessage()
			if err != nil || c.WriteMessage(kind, msg) != nil {
				return
			}
		}
	})
}

// startBackend runs the echo backend in a process of its own, so that the
// clients here do not share its scheduler.
func startBackend() (string, func(), error) {
	self, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), "SOCKETBAR_BENCH_BACKEND=1")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		return "", nil, fmt.Errorf("echo backend: %v", err)
	}
	return strings.TrimSpace(line), func() { stdin.Close(); cmd.Wait() }, nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitListening polls addr until it accepts or 10 s pass.
func waitListening(addr string, cmd *exec.Cmd) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		if cmd.ProcessState != nil {
			return errors.New("exited before listening")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("not listening on %s after 10 s", addr)
}

func startProcess(name string, args []string, addr string, logFile string) (*exec.Cmd, func(), error) {
	cmd := exec.Command(name, args...)
	if f, err := os.Create(logFile); err == nil {
		cmd.Stdout, cmd.Stderr = f, f
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	go cmd.Wait()
	stop := func() { cmd.Process.Signal(os.Interrupt); time.AfterFunc(5*time.Second, func() { cmd.Process.Kill() }) }
	if err := waitListening(addr, cmd); err != nil {
		cmd.Process.Kill()
		log, _ := os.ReadFile(logFile)
		return nil, nil, fmt.Errorf("%v\n%s", err, log)
	}
	return cmd, stop, nil
}

func startSocketbar(bin, dir, backend, cert, key string) (target, func(), error) {
	addr, err := freeAddr()
	if err != nil {
		return target{}, nil, err
	}
	cmd, stop, err := startProcess(bin, []string{"serve", "--addr", addr, "--route", "/echo=ws://" + backend + "/echo", "--cert", cert, "--key", key},
		addr, filepath.Join(dir, "socketbar.log"))
	if err != nil {
		return target{}, nil, err
	}
	return target{name: "socketbar", url: "wss://" + addr + "/echo", pid: cmd.Process.Pid}, stop, nil
}

func startNginx(dir, backend, cert, key string) (target, func(), error) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nginx"); serr != nil {
			return target{}, nil, errors.New("not installed")
		}
		bin = "/usr/sbin/nginx"
	}
	addr, err := freeAddr()
	if err != nil {
		return target{}, nil, err
	}
	d := filepath.Join(dir, "nginx")
	os.MkdirAll(d, 0o755)
	conf := fmt.Sprintf(`daemon off;
worker_processes auto;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 30000; }
http {
  access_log off;
  client_body_temp_path %[1]s/body; proxy_temp_path %[1]s/proxy; fastcgi_temp_path %[1]s/fcgi; uwsgi_temp_path %[1]s/uwsgi; scgi_temp_path %[1]s/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  server {
    listen %[2]s ssl;
    ssl_certificate %[3]s;
    ssl_certificate_key %[4]s;
    location /echo {
      proxy_pass http://%[5]s;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_read_timeout 3600s;
    }
  }
}
`, d, addr, cert, key, backend)
	confFile := filepath.Join(d, "nginx.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		return target{}, nil, err
	}
	cmd, stop, err := startProcess(bin, []string{"-p", d, "-c", confFile}, addr, filepath.Join(d, "stdout.log"))
	if err != nil {
		return target{}, nil, err
	}
	return target{name: "nginx", url: "wss://" + addr + "/echo", pid: cmd.Process.Pid}, stop, nil
}

func startApache(dir, backend, cert, key string) (target, func(), error) {
	bin, mods := "/usr/sbin/apache2", "/usr/lib/apache2/modules"
	if _, err := os.Stat(bin); err != nil {
		return target{}, nil, errors.New("not installed")
	}
	addr, err := freeAddr()
	if err != nil {
		return target{}, nil, err
	}
	d := filepath.Join(dir, "apache")
	os.MkdirAll(d, 0o755)
	user, group := "nobody", "nogroup"
	if os.Geteuid() != 0 {
		user, group = "#"+fmt.Sprint(os.Geteuid()), "#"+fmt.Sprint(os.Getegid())
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ServerRoot %q\nDefaultRuntimeDir %q\nPidFile %q\nErrorLog %q\nLogLevel warn\nServerName localhost\nUser %s\nGroup %s\n", d, d, d+"/httpd.pid", d+"/error.log", user, group)
	for _, m := range []string{"mpm_event", "authz_core", "proxy", "proxy_http", "proxy_wstunnel", "ssl", "socache_shmcb"} {
		fmt.Fprintf(&b, "LoadModule %s_module %s/mod_%s.so\n", m, mods, m)
	}
	fmt.Fprintf(&b, `ServerLimit 24
ThreadsPerChild 64
MaxRequestWorkers 1536
Timeout 3600
Listen %s
<VirtualHost *:%s>
  SSLEngine on
  SSLCertificateFile %q
  SSLCertificateKeyFile %q
  ProxyPreserveHost On
  ProxyPass /echo ws://%s/echo
</VirtualHost>
`, addr, addr[strings.LastIndexByte(addr, ':')+1:], cert, key, backend)
	confFile := filepath.Join(d, "httpd.conf")
	if err := os.WriteFile(confFile, []byte(b.String()), 0o644); err != nil {
		return target{}, nil, err
	}
	cmd, stop, err := startProcess(bin, []string{"-f", confFile, "-DFOREGROUND"}, addr, filepath.Join(d, "stdout.log"))
	if err != nil {
		return target{}, nil, err
	}
	return target{name: "apache", url: "wss://" + addr + "/echo", pid: cmd.Process.Pid, note: "ProxyPass ws:// (mod_proxy_wstunnel), mpm_event"}, stop, nil
}

func writeCert(dir string) (string, string, error) {
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	err := tlscert.Write(certFile, keyFile, tlscert.Spec{Names: []string{"localhost", "127.0.0.1"}, NotAfter: time.Now().Add(24 * time.Hour)})
	return certFile, keyFile, err
}
