# agent.pl: Socketbar's root agent on a Server, streamed to /usr/bin/perl
# over SSH (see package agent) and never written there. It stays alive for
# one change and does, one request at a time, what serverctl.Disk and
# run.Runner ask; nothing else is read or written.
#
# Written for the perl 5 of OS X 10.10 (5.18) and later: core modules only,
# no feature pragmas, no "//", no "say". Paths and data are bytes.
#
# Frames, both ways: a 4-byte big-endian length, then that many bytes of
# fields, each a 4-byte big-endian length and its bytes. The agent first
# writes the line "socketbar-agent 1\n" and a hello frame (hello, PID,
# UID, EUID). Each request is (SEQ, OP, ARGS...); each answer is (SEQ,
# "ok", RESULTS...) or (SEQ, "err", KIND, ERRNO, OP, PATH, PATH2, TEXT).
# While a run is in progress the only request it reads is (SEQ, "cancel").
# The end of standard input ends the agent, and with it every lock.
package SocketbarAgent;
use strict;
BEGIN {
	eval { require Time::HiRes; Time::HiRes->import('stat'); 1 };
	eval { Time::HiRes->import('lstat'); 1 };
}
use Fcntl qw(O_RDONLY O_WRONLY O_RDWR O_CREAT O_EXCL O_NOFOLLOW O_NONBLOCK SEEK_SET LOCK_EX LOCK_NB);
use POSIX ();
use IO::Handle ();
use Config ();

my $MAXFILE = 16 << 20;           # serverctl.MaxFileSize
my $MAXREQ  = $MAXFILE + (1 << 20); # WriteNew's data and its paths
my $S_IFMT  = 0170000;

binmode STDIN;
binmode STDOUT;
my $inbuf = '';
my %locks;
my $nextlock = 0;
my @signame = split ' ', $Config::Config{sig_name};

# fill reads more of standard input into $inbuf; 0 at its end.
sub fill {
	while (1) {
		my $n = sysread(STDIN, $inbuf, 65536, length $inbuf);
		return $n if defined $n;
		next if $!{EINTR};
		return 0;
	}
}

# take returns the next whole request in $inbuf, or undef.
sub take {
	return undef if length($inbuf) < 4;
	my $len = unpack('N', $inbuf);
	die "socketbar-agent: a request of $len bytes\n" if $len > $MAXREQ;
	return undef if length($inbuf) < 4 + $len;
	my $p = substr($inbuf, 4, $len);
	substr($inbuf, 0, 4 + $len) = '';
	my @f;
	my $o = 0;
	while ($o < length $p) {
		die "socketbar-agent: a broken request\n" if $o + 4 > length $p;
		my $l = unpack('N', substr($p, $o, 4));
		$o += 4;
		die "socketbar-agent: a broken request\n" if $o + $l > length $p;
		push @f, substr($p, $o, $l);
		$o += $l;
	}
	return \@f;
}

sub next_request {
	while (1) {
		my $f = take();
		return $f if $f;
		return undef unless fill();
	}
}

sub send_frame {
	my $p = join '', map { pack('N', length $_) . $_ } @_;
	my $b = pack('N', length $p) . $p;
	my $o = 0;
	while ($o < length $b) {
		my $n = syswrite(STDOUT, $b, length($b) - $o, $o);
		if (!defined $n) {
			next if $!{EINTR};
			POSIX::_exit(1);
		}
		$o += $n;
	}
}

# errname is the symbolic name of $! ("ENOENT"), which means the same on
# every system, unlike its number.
sub errname {
	my $num = $! + 0;
	return '' unless $num;
	for my $k (sort keys %!) {
		return $k if $!{$k};
	}
	return "E$num";
}

my $seq = '';
sub ok { send_frame($seq, 'ok', @_); return; }

sub fail {
	my ($kind, $op, $path, $path2, $text) = @_;
	my $name = errname();
	$text = "$!" unless defined $text;
	send_frame($seq, 'err', $kind, $name, $op, $path, defined $path2 ? $path2 : '', $text);
	return;
}

# st is what an answer says of a file: mode, size, mtime, uid, gid,
# nlink, dev, ino.
sub st {
	my @s = @_;
	return ($s[2], $s[7], $s[9], $s[4], $s[5], $s[3], $s[0], $s[1]);
}

sub is_link {
	my @s = CORE::lstat($_[0]);
	return @s && ($s[2] & $S_IFMT) == 0120000;
}

# open_regular opens path for reading without blocking (a FIFO cannot
# hang it) and checks the opened file; it returns the handle and its
# stat, or sends the error and returns nothing.
sub open_regular {
	my ($path, $nofollow) = @_;
	my $fh;
	my $flags = O_RDONLY | O_NONBLOCK;
	$flags |= O_NOFOLLOW if $nofollow;
	if (!sysopen($fh, $path, $flags)) {
		return fail('symlink', 'open', $path) if $nofollow && is_link($path);
		return fail('errno', 'open', $path);
	}
	binmode $fh;
	my @s = stat($fh);
	return fail('errno', 'stat', $path) unless @s;
	if (($s[2] & $S_IFMT) != 0100000) {
		close $fh;
		return fail('notregular', 'open', $path, '', $s[2]);
	}
	return ($fh, @s);
}

sub readn {
	my ($fh, $n) = @_;
	my $data = '';
	while (length($data) < $n) {
		my $got = sysread($fh, $data, $n - length($data), length($data));
		if (!defined $got) {
			next if $!{EINTR};
			return undef;
		}
		last if $got == 0;
	}
	return $data;
}

sub syncdir {
	my $dir = shift;
	$dir =~ s{/+[^/]*\z}{};
	$dir = '/' if $dir eq '';
	my $dh;
	if (sysopen($dh, $dir, O_RDONLY)) {
		$dh->sync;
		close $dh;
	}
}

sub op_read {
	my ($path, $nofollow) = @_;
	my ($fh, @s) = open_regular($path, $nofollow);
	return unless $fh;
	return fail('toolarge', 'open', $path, '', $s[7]) if $s[7] > $MAXFILE;
	my $data = readn($fh, $MAXFILE + 1);
	return fail('errno', 'read', $path) unless defined $data;
	return fail('toolarge', 'open', $path, '', length $data) if length($data) > $MAXFILE;
	ok(st(@s), $data);
}

sub op_tail {
	my ($path, $n) = @_;
	my ($fh, @s) = open_regular($path, 0);
	return unless $fh;
	if ($s[7] > $n) {
		return fail('errno', 'seek', $path) unless sysseek($fh, $s[7] - $n, SEEK_SET);
	}
	my $data = readn($fh, $n);
	return fail('errno', 'read', $path) unless defined $data;
	ok($data);
}

sub op_stat {
	my ($path) = @_;
	my @s = stat($path);
	return fail('errno', 'stat', $path) unless @s;
	ok(st(@s));
}

sub op_lstat {
	my ($path) = @_;
	my @s = lstat($path);
	return fail('errno', 'lstat', $path) unless @s;
	ok(st(@s));
}

# lastsep is the index of the last "/" in dest after the volume, or
# less than vollen.
sub lastsep {
	my ($dest, $vollen) = @_;
	my $r;
	for ($r = length($dest) - 1; $r >= $vollen; $r--) {
		last if substr($dest, $r, 1) eq '/';
	}
	return $r;
}

# op_resolve follows every link in path: Go's filepath.EvalSymlinks (its
# walkSymlinks, line for line); the caller cleans the result.
sub op_resolve {
	my ($path) = @_;
	my $vollen = substr($path, 0, 1) eq '/' ? 1 : 0;
	my $vol = substr($path, 0, $vollen);
	my $dest = $vol;
	my $links = 0;
	my ($start, $end);
	for ($start = $end = $vollen; $start < length $path; $start = $end) {
		$start++ while $start < length($path) && substr($path, $start, 1) eq '/';
		$end = $start;
		$end++ while $end < length($path) && substr($path, $end, 1) ne '/';
		last if $end == $start;
		my $part = substr($path, $start, $end - $start);
		next if $part eq '.';
		if ($part eq '..') {
			my $r = lastsep($dest, $vollen);
			if ($r < $vollen || substr($dest, $r + 1) eq '..') {
				$dest .= '/' if length($dest) > $vollen;
				$dest .= '..';
			} else {
				$dest = substr($dest, 0, $r);
			}
			next;
		}
		$dest .= '/' if length($dest) > 0 && substr($dest, -1) ne '/';
		$dest .= $part;
		my @s = CORE::lstat($dest);
		return fail('errno', 'lstat', $dest) unless @s;
		if (($s[2] & $S_IFMT) != 0120000) {
			if (($s[2] & $S_IFMT) != 0040000 && $end < length $path) {
				$! = POSIX::ENOTDIR();
				return fail('errno', 'lstat', $dest);
			}
			next;
		}
		return fail('other', 'EvalSymlinks', $path, '', 'too many links') if ++$links > 255;
		my $link = readlink($dest);
		return fail('errno', 'readlink', $dest) unless defined $link;
		$path = $link . substr($path, $end);
		if (substr($link, 0, 1) eq '/') {
			($dest, $vol, $vollen, $end) = ('/', '/', 1, 1);
		} else {
			my $r = lastsep($dest, $vollen);
			$dest = $r < $vollen ? $vol : substr($dest, 0, $r);
			$end = 0;
		}
	}
	ok($dest);
}

sub op_list {
	my ($dir) = @_;
	my $dh;
	return fail('errno', 'open', $dir) unless opendir($dh, $dir);
	my @names = sort grep { $_ ne '.' && $_ ne '..' } readdir($dh);
	closedir $dh;
	ok(@names);
}

sub op_write {
	my ($path, $data, $perm, $uid, $gid) = @_;
	my $fh;
	if (!sysopen($fh, $path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, $perm)) {
		return fail('symlink', 'open', $path) if is_link($path);
		return fail('errno', 'open', $path);
	}
	binmode $fh;
	my $o = 0;
	my ($op, $err) = ('', 0);
	while ($o < length $data) {
		my $n = syswrite($fh, $data, length($data) - $o, $o);
		if (!defined $n) {
			next if $!{EINTR};
			($op, $err) = ('write', $! + 0);
			last;
		}
		$o += $n;
	}
	# Through the handle, past the umask: the name could be swapped.
	($op, $err) = ('chmod', $! + 0) if !$op && !chmod($perm, $fh);
	chown($uid, $gid, $fh) if !$op && $uid >= 0;
	($op, $err) = ('sync', $! + 0) if !$op && !$fh->sync;
	($op, $err) = ('close', $! + 0) if !close($fh) && !$op;
	if ($op) {
		unlink $path;
		$! = $err;
		return fail('errno', $op, $path);
	}
	ok();
}

sub op_rename {
	my ($from, $to) = @_;
	return fail('errno', 'rename', $from, $to) unless rename($from, $to);
	syncdir($to);
	ok();
}

# op_remove is Go's os.Remove: unlink, else rmdir, and unlink's error
# unless rmdir's says more.
sub op_remove {
	my ($path) = @_;
	if (!unlink($path)) {
		my $e = $! + 0;
		if (!rmdir($path)) {
			$! = $e if $!{ENOTDIR};
			return fail('errno', 'remove', $path);
		}
	}
	syncdir($path);
	ok();
}

sub op_mkdir {
	my ($path, $perm) = @_;
	return fail('errno', 'mkdir', $path) unless mkdir($path, $perm);
	ok();
}

sub op_lock {
	my ($path) = @_;
	my $fh;
	if (!sysopen($fh, $path, O_RDWR | O_CREAT | O_NOFOLLOW, 0644)) {
		return fail('symlink', 'open', $path) if is_link($path);
		return fail('errno', 'open', $path);
	}
	my @s = stat($fh);
	return fail('errno', 'stat', $path) unless @s;
	if (($s[2] & $S_IFMT) != 0100000) {
		close $fh;
		return fail('notregular', 'open', $path, '', $s[2]);
	}
	if (!flock($fh, LOCK_EX | LOCK_NB)) {
		my $locked = $!{EWOULDBLOCK} || $!{EAGAIN};
		close $fh;
		return fail($locked ? 'locked' : 'errno', 'lock', $path);
	}
	my $id = ++$nextlock;
	$locks{$id} = $fh;
	ok($id, st(@s));
}

sub op_unlock {
	my ($id) = @_;
	my $fh = delete $locks{$id};
	close $fh if $fh;
	ok();
}

sub op_alive {
	my ($pid) = @_;
	return ok(1) if kill(0, $pid);
	return ok(0) if $!{ESRCH};
	return ok(1) if $!{EPERM};
	fail('errno', 'kill', $pid);
}

# op_run runs ARGV in a process group of its own with ENV added, its
# standard output and error together, at most MAX bytes kept. A cancel
# request, or the end of standard input, kills the group.
sub op_run {
	my ($max, $nenv, @rest) = @_;
	my @env = splice(@rest, 0, $nenv);
	my @argv = @rest;
	my $path = $argv[0];
	my ($r, $w, $er, $ew);
	return fail('errno', 'pipe', $path) unless pipe($r, $w) && pipe($er, $ew);
	my $pid = fork();
	return fail('errno', 'fork/exec', $path) unless defined $pid;
	if ($pid == 0) {
		close $r;
		close $er;
		POSIX::setpgid(0, 0);
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>&', $w);
		open(STDERR, '>&', $w);
		close $w;
		for my $kv (@env) {
			my ($k, $v) = split /=/, $kv, 2;
			$ENV{$k} = defined $v ? $v : '';
		}
		$SIG{$_} = 'DEFAULT' for qw(PIPE INT TERM HUP);
		{ exec { $path } @argv; }
		syswrite($ew, errname());
		POSIX::_exit(127);
	}
	close $w;
	close $ew;
	my $eb = readn($er, 256);
	close $er;
	if (defined $eb && $eb ne '') {
		waitpid($pid, 0);
		send_frame($seq, 'err', 'errno', $eb, 'fork/exec', $path, '', $eb);
		return;
	}
	my ($out, $trunc, $cancelled, $eof, $status, $drain) = ('', 0, 0, 0, undef, 0);
	while (1) {
		if (!defined $status && waitpid($pid, POSIX::WNOHANG()) == $pid) {
			$status = $?;
			$drain = Time::HiRes::time() + 1;
		}
		# What the command started may hold its output open: a second at
		# most once it has exited.
		last if defined $status && ($eof || Time::HiRes::time() > $drain);
		my $rin = '';
		vec($rin, fileno($r), 1) = 1 unless $eof;
		vec($rin, fileno(STDIN), 1) = 1;
		my $rout;
		my $n = select($rout = $rin, undef, undef, $eof ? 0.01 : 0.25);
		next if $n <= 0;
		if (!$eof && vec($rout, fileno($r), 1)) {
			my $buf;
			my $k = sysread($r, $buf, 65536);
			if (!defined $k) {
				$eof = 1 unless $!{EINTR};
			} elsif ($k == 0) {
				$eof = 1;
			} elsif (length($out) + $k > $max) {
				$out .= substr($buf, 0, $max - length $out);
				$trunc = 1;
				$eof = 1;
				kill 'KILL', -$pid;
			} else {
				$out .= $buf;
			}
		}
		if (vec($rout, fileno(STDIN), 1)) {
			if (!fill()) {
				kill 'KILL', -$pid;
				POSIX::_exit(0);
			}
			while (my $f = take()) {
				die "socketbar-agent: a request during a run\n" unless $f->[1] eq 'cancel';
				$cancelled = 1;
				kill 'KILL', -$pid;
			}
		}
	}
	close $r;
	my ($how, $code) = ('exit', 0);
	if (POSIX::WIFEXITED($status)) {
		$code = POSIX::WEXITSTATUS($status);
	} else {
		($how, $code) = ('signal', $signame[POSIX::WTERMSIG($status)] || POSIX::WTERMSIG($status));
	}
	ok($how, $code, $out, $trunc, $cancelled);
}

my %ops = (
	read    => \&op_read,
	tail    => \&op_tail,
	stat    => \&op_stat,
	lstat   => \&op_lstat,
	resolve => \&op_resolve,
	list    => \&op_list,
	write   => \&op_write,
	rename  => \&op_rename,
	remove  => \&op_remove,
	mkdir   => \&op_mkdir,
	lock    => \&op_lock,
	unlock  => \&op_unlock,
	alive   => \&op_alive,
	run     => \&op_run,
);

$| = 1;
syswrite(STDOUT, "socketbar-agent 1\n");
send_frame('hello', $$, $<, $>);
while (my $req = next_request()) {
	my ($s, $op, @args) = @$req;
	$seq = $s;
	# A cancel that came after its run had ended: nothing to do.
	next if defined $op && $op eq 'cancel';
	my $f = $ops{defined $op ? $op : ''};
	if (!$f) {
		send_frame($seq, 'err', 'other', '', 'agent', '', '', "unknown request");
		next;
	}
	$! = 0;
	$f->(@args);
}
POSIX::_exit(0);
