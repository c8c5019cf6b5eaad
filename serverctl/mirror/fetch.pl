# fetch.pl: Socketbar's mirror fetch, streamed to /usr/bin/perl on the
# Server over SSH and never written there (see package mirror).
#
# Written for the perl 5 of OS X 10.10 (5.18) and later: core modules only,
# no feature pragmas, no "//", no "say". Paths are bytes throughout.
#
# Input (after __END__ on standard input), one line each, words in hex:
#   root HEX                       the folder that stands for "/"
#   limits FILESIZE TAIL DEPTH     bytes of one file, of a tail; folder depth
#   c HEX [GLOB...]                the file's or folder tree's content
#   t HEX                          the last TAIL bytes of a file
#   e HEX                          a file's existence, or a folder's entries'
# A GLOB is one path segment below HEX where "*" is any run of bytes and
# "?" one byte (a superset of the pattern Apache matches; Socketbar matches
# the exact pattern locally).
#
# Output: "socketbar-mirror 1\n", then one record per path:
#   KIND PERM SIZE MTIME PATHLEN LINKLEN DATALEN\n PATH LINK DATA
# KIND: f content, t tail, e exists, b too big (no content), d folder,
# o other type, n not there, x unreadable (DATA says why). LINK is the
# symlink's target when PATH is one (the rest describes what it points
# to). Last: "end COUNT\n".
use strict;
# Sub-second times where Time::HiRes has them (its lstat only in newer ones).
BEGIN {
	eval { require Time::HiRes; Time::HiRes->import('stat'); 1 };
	eval { Time::HiRes->import('lstat'); 1 };
}
use Fcntl qw(O_RDONLY O_NONBLOCK SEEK_SET);

binmode STDOUT;
my ($root, $maxsize, $tailmax, $maxdepth) = ('', 0, 0, 16);
my @req;
while (my $line = <DATA>) {
	$line =~ s/\r?\n\z//;
	my @w = split / /, $line;
	next unless @w;
	if ($w[0] eq 'root') {
		$root = unhex($w[1]);
	} elsif ($w[0] eq 'limits') {
		($maxsize, $tailmax, $maxdepth) = ($w[1] + 0, $w[2] + 0, $w[3] + 0);
	} else {
		push @req, [@w];
	}
}
$root =~ s{/+\z}{};

print "socketbar-mirror 1\n";
my $count = 0;
my %sent;
for my $r (@req) {
	my ($mode, $hex, @globs) = @$r;
	my @re = map { glob_re(unhex($_)) } @globs;
	visit($mode, unhex($hex), \@re, 0, {});
}
print "end $count\n";
exit 0;

sub unhex {
	my $h = shift;
	$h = '' unless defined $h;
	return pack('H*', $h);
}

sub glob_re {
	my $g = shift;
	my $r = '';
	for my $c (split //, $g) {
		if ($c eq '*') { $r .= '.*'; }
		elsif ($c eq '?') { $r .= '.'; }
		else { $r .= quotemeta($c); }
	}
	return qr/\A$r\z/s;
}

sub missing { return $!{ENOENT} || $!{ENOTDIR}; }

sub emit {
	my ($kind, $path, $link, $st, $data) = @_;
	return if $sent{$path}++;
	my ($perm, $size, $mtime) = (0, 0, '0');
	if ($st) {
		($perm, $size, $mtime) = ($st->[2] & 07777, $st->[7], sprintf('%.6f', $st->[9]));
	}
	$size = length($data) if $kind eq 'f';
	printf "%s %o %d %s %d %d %d\n", $kind, $perm, $size, $mtime, length($path), length($link), length($data);
	print $path, $link, $data;
	$count++;
}

sub fail {
	my ($path, $link, $why) = @_;
	emit('x', $path, $link, undef, substr($why, 0, 1000));
}

# readn reads up to $n bytes; undef on a read error.
sub readn {
	my ($fh, $n) = @_;
	my $data = '';
	while (length($data) < $n) {
		my $got = sysread($fh, $data, $n - length($data), length($data));
		return undef unless defined $got;
		last if $got == 0;
	}
	return $data;
}

sub visit {
	my ($mode, $path, $globs, $depth, $chain) = @_;
	my $full = $root . $path;
	my @st = lstat($full);
	if (!@st) {
		if (missing()) { emit('n', $path, '', undef, ''); } else { fail($path, '', "$!"); }
		return;
	}
	my $link = '';
	if (($st[2] & 0170000) == 0120000) {
		$link = readlink($full);
		$link = '' unless defined $link;
		@st = stat($full);
		if (!@st) {
			if (missing()) { emit('n', $path, $link, undef, ''); } else { fail($path, $link, "$!"); }
			return;
		}
	}
	my $type = $st[2] & 0170000;
	if ($type == 0040000) {
		if ($mode eq 't' || ($mode eq 'e' && $depth > 0)) {
			emit('d', $path, $link, \@st, '');
			return;
		}
		my $id = "$st[0]:$st[1]";
		if ($chain->{$id}) { fail($path, $link, 'folder loop'); return; }
		if ($depth >= $maxdepth) { fail($path, $link, 'folders nested too deep'); return; }
		my $dh;
		if (!opendir($dh, $full)) { fail($path, $link, "$!"); return; }
		my @names = sort grep { $_ ne '.' && $_ ne '..' } readdir($dh);
		closedir($dh);
		emit('d', $path, $link, \@st, '');
		my @rest = @$globs;
		my $g = shift @rest;
		my %inner = (%$chain, $id => 1);
		my $base = $path eq '/' ? '' : $path;
		for my $n (@names) {
			next if defined $g && $n !~ $g;
			visit($mode, "$base/$n", \@rest, $depth + 1, \%inner);
		}
		return;
	}
	# A pattern's folder segment matches folders only.
	return if @$globs;
	if ($type != 0100000) {
		emit('o', $path, $link, \@st, '');
		return;
	}
	if ($mode eq 'e') {
		emit('e', $path, $link, \@st, '');
		return;
	}
	my $fh;
	if (!sysopen($fh, $full, O_RDONLY | O_NONBLOCK)) { fail($path, $link, "$!"); return; }
	binmode $fh;
	my @fs = stat($fh);
	if (!@fs) { fail($path, $link, "$!"); close($fh); return; }
	if (($fs[2] & 0170000) != 0100000) { emit('o', $path, $link, \@fs, ''); close($fh); return; }
	if ($mode eq 't') {
		my $off = $fs[7] > $tailmax ? $fs[7] - $tailmax : 0;
		my $data;
		if (sysseek($fh, $off, SEEK_SET)) { $data = readn($fh, $tailmax); }
		if (defined $data) { emit('t', $path, $link, \@fs, $data); } else { fail($path, $link, "$!"); }
		close($fh);
		return;
	}
	if ($fs[7] > $maxsize) { emit('b', $path, $link, \@fs, ''); close($fh); return; }
	my $data = readn($fh, $maxsize + 1);
	close($fh);
	if (!defined $data) { fail($path, $link, "$!"); return; }
	if (length($data) > $maxsize) {
		$fs[7] = length($data);
		emit('b', $path, $link, \@fs, '');
		return;
	}
	emit('f', $path, $link, \@fs, $data);
}
