#!/usr/bin/perl
# check_openapi.pl OPENAPI_YAML PROTOCOL_MD
#
# Checks that docs/openapi.yaml is a valid OpenAPI 3.0 document (against the
# specification's schema, with every $ref resolved: JSON::Validator, Debian's
# libjson-validator-perl) and that it describes what docs/protocol.md does:
#   - every "`METHOD /v1/path?query`" (the path headings, and the catalog's
#     "`GET /v1/catalog?since=40`") is an operation of the yaml, with each
#     of its query parameters;
#   - every other /v1/ path protocol.md mentions (the firmware bundle's url)
#     matches a yaml path template;
#   - every yaml path and method is one protocol.md names (the yaml
#     invents none);
#   - every example in the yaml matches its schema;
#   - every error code protocol.md gives ("`409 out_of_stock`", or listed
#     among the common codes) is in the yaml's Error code enum.
# Exits 77 (ctest's SKIP_RETURN_CODE) when JSON::Validator is not installed.
use strict;
use warnings;

my ($yaml_file, $md_file) = @ARGV;
die "usage: $0 OPENAPI_YAML PROTOCOL_MD\n" unless defined $md_file;

unless (eval { require JSON::Validator; require JSON::Validator::Schema::OpenAPIv3;
                require JSON::Validator::Schema::Draft4; 1 }) {
    print "SKIP: JSON::Validator is not installed (Debian: libjson-validator-perl)\n";
    exit 77;
}

my @problems;

# 1. The document against the OpenAPI 3.0 schema (cached in the module, so
#    no network), with every $ref resolved (resolve dies on a missing one).
#    Not $schema->errors: it applies draft 2019-09 rules to the OpenAPI 3.0
#    schema, which is draft-04, and so reads "exclusiveMinimum: true" as 1
#    and refuses any multipleOf up to 1 (Money's 0.01). A draft-04 validator
#    reads it as written.
my $schema = eval { JSON::Validator::Schema::OpenAPIv3->new($yaml_file) };
if (!$schema) {
    print "FAIL: $yaml_file: cannot load: $@";
    exit 1;
}
my $spec = $schema->data;
if (($spec->{openapi} // '') !~ /^3\.0\.\d+$/) {
    push @problems, "openapi is '" . ($spec->{openapi} // '') . "', not 3.0.x";
}
my $resolved = eval { $schema->resolve->data };
if (!$resolved) {
    print "FAIL: $yaml_file: \$ref: $@";
    exit 1;
}
my $meta = JSON::Validator::Schema::Draft4->new(store => $schema->store)
    ->resolve($schema->specification);
# Draft 4 knows no uri-reference; the OpenAPI 3.0 schema uses it.
$meta->formats->{'uri-reference'} = JSON::Validator::Formats->can('check_uri_reference');
push @problems, "$yaml_file: $_" for $meta->validate($resolved);

# 2. Every example (protocol.md's, copied) against its schema.
my $examples = 0;
my $check_example = sub {
    my ($where, $value, $sch) = @_;
    return unless $sch;
    $examples++;
    push @problems, "$yaml_file: example of $where: $_" for $schema->validate($value, $sch);
};
my $check_content = sub {
    my ($where, $content) = @_;
    for my $type (sort keys %{$content // {}}) {
        my $media = $content->{$type};
        $check_example->($where, $media->{example}, $media->{schema}) if exists $media->{example};
        my $named = $media->{examples} // {};
        $check_example->("$where ($_)", $named->{$_}{value}, $media->{schema}) for sort keys %$named;
    }
};
for my $path (sort keys %{$resolved->{paths}}) {
    for my $method (grep { !/^(x-|parameters|summary|description|servers)/ } sort keys %{$resolved->{paths}{$path}}) {
        my $op = $resolved->{paths}{$path}{$method};
        my $where = uc($method) . " $path";
        for my $param (@{$op->{parameters} // []}) {
            $check_example->("$where parameter $param->{name}", $param->{example}, $param->{schema})
                if exists $param->{example};
        }
        $check_content->("$where request", $op->{requestBody}{content}) if $op->{requestBody};
        $check_content->("$where $_", $op->{responses}{$_}{content}) for sort keys %{$op->{responses}};
    }
}
for my $name (sort keys %{$resolved->{components}{schemas} // {}}) {
    my $sch = $resolved->{components}{schemas}{$name};
    $check_example->("schema $name", $sch->{example}, $sch) if ref $sch eq 'HASH' && exists $sch->{example};
}
push @problems, "$yaml_file: no examples found" unless $examples;

# 3. protocol.md against the yaml.
open my $md, '<:encoding(UTF-8)', $md_file or die "$md_file: $!\n";
my $text = do { local $/; <$md> };
close $md;

my $paths = $spec->{paths} // {};

# The yaml path whose template matches a concrete path ({x} matches one segment).
sub template_for {
    my ($path) = @_;
    for my $t (keys %$paths) {
        my $re = join '/', map { /^\{.+\}$/ ? '[^/]+' : quotemeta } split m{/}, $t, -1;
        return $t if $path =~ m{^$re$};
    }
    return undef;
}

my %named;       # yaml templates protocol.md names
my %named_op;    # "method template" protocol.md names
my $headings = () = $text =~ /^###\s+`[A-Z]+ \/v1\//mg;
# Every "`METHOD /v1/path?query`", in a heading or in the text.
while ($text =~ /`(GET|POST|PUT|PATCH|DELETE)\s+(\/v1\/[^`?\s]*)(?:\?([^`\s]*))?`/g) {
    my ($method, $path, $query) = (lc $1, $2, $3 // '');
    my $op = $paths->{$path} && $paths->{$path}{$method};
    if (!$op) {
        push @problems, "protocol.md: " . uc($method) . " $path is not in $yaml_file";
        next;
    }
    $named{$path} = 1;
    $named_op{"$method $path"} = 1;
    my %params = map { ($_->{in} // '') eq 'query' ? ($_->{name} => 1) : () }
        @{$op->{parameters} // []};
    for my $pair (split /&/, $query) {
        my ($name) = split /=/, $pair;
        push @problems, "protocol.md: " . uc($method) . " $path: query parameter '$name' is not in $yaml_file"
            unless $params{$name};
    }
}
push @problems, "protocol.md: no path headings found" unless $headings;

# Other paths the text mentions: in backticks, JSON strings or prose.
my %seen_unmatched;
while ($text =~ m!(/v1/[A-Za-z0-9._{}/-]*[A-Za-z0-9_}])!g) {
    my $path = $1;
    next if $path =~ m{^/v1/?$};
    my $t = template_for($path);
    if (defined $t) {
        $named{$t} = 1;
    } else {
        push @problems, "protocol.md: path $path matches no path of $yaml_file"
            unless $seen_unmatched{$path}++;
    }
}
# A path protocol.md only mentions (the bundle's url: "GET of the url")
# may have a GET and nothing else.
for my $t (sort keys %$paths) {
    if (!$named{$t}) {
        push @problems, "$yaml_file: path $t is not in protocol.md";
        next;
    }
    my $mentioned_only = !grep { /^[a-z]+ \Q$t\E$/ } keys %named_op;
    for my $m (grep { /^(get|put|post|delete|options|head|patch|trace)$/ } keys %{$paths->{$t}}) {
        next if $named_op{"$m $t"} || ($mentioned_only && $m eq 'get');
        push @problems, "$yaml_file: " . uc($m) . " $t is not in protocol.md";
    }
}

# Error codes: "`NNN code`" anywhere, and the common list "(plus `a`, `b`, ...)".
my %codes;
$codes{$1} = 1 while $text =~ /`[45]\d\d ([a-z_]+)`/g;
if ($text =~ /\(plus ((?:`[a-z_]+`,?\s*(?:and\s+)?)+)\)/) {
    my $list = $1;
    $codes{$1} = 1 while $list =~ /`([a-z_]+)`/g;
}
push @problems, "protocol.md: no error codes found" unless %codes;
my %enum = map { $_ => 1 }
    @{$spec->{components}{schemas}{Error}{properties}{error}{properties}{code}{enum} // []};
for my $c (sort keys %codes) {
    push @problems, "protocol.md: error code $c is not in the Error code enum of $yaml_file" unless $enum{$c};
}
for my $c (sort keys %enum) {
    push @problems, "$yaml_file: error code $c is not in protocol.md" unless $codes{$c};
}

if (@problems) {
    print "FAIL: $_\n" for @problems;
    exit 1;
}
printf "OK: %s is valid OpenAPI %s, its %d examples match their schemas; "
    . "%d paths, %d error codes, all in %s\n",
    $yaml_file, $spec->{openapi}, $examples, scalar(keys %$paths), scalar(keys %codes), $md_file;
exit 0;
