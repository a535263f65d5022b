#!/bin/bash
# Checks that the man pages and shell completions agree with the CLI.
#   tests/docs/check-docs.sh PATH-TO-BERTH
#
# The binary's own --help output is the reference: every subcommand it lists
# needs a man page, an entry in berth(8) and in docs/meson.build, and must be
# offered by the bash, zsh and fish completions; every flag (long and short)
# a subcommand's --help shows must be documented in its page's OPTIONS and be
# offered by the completions, and the pages and completions must not offer
# flags the binary does not have. Also checks the completion files' syntax and
# that each page builds with scdoc and renders without groff warnings.
#
# The parsing of --help accepts both Boost.Program_options' layout and runc's
# (urfave/cli), so the script can be pointed at runc for comparison:
#   tests/docs/check-docs.sh /usr/sbin/runc
# DOCS_NAME (default berth) is the name the docs and completions are written
# for. Prints one "ok - ..." / "not ok - ..." line per check, then
# "N passed, M failed, K skipped"; exits 1 if any check failed.
set -u

name=${DOCS_NAME:-berth}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
man_dir=$src/docs/man
bash_comp=$src/contrib/completions/bash/$name
zsh_comp=$src/contrib/completions/zsh/_$name
fish_comp=$src/contrib/completions/fish/$name.fish

passed=0 failed=0 skipped=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }
skip() { echo "skip - $*"; skipped=$((skipped + 1)); }
check() {  # check DESCRIPTION "MISSING ...": ok when nothing is missing
  if [ -z "${2:-}" ]; then ok "$1"; else not_ok "$1 (missing: $2)"; fi
}
check_extra() {  # check_extra DESCRIPTION "EXTRA ...": ok when nothing is extra
  if [ -z "${2:-}" ]; then ok "$1"; else not_ok "$1 (extra: $2)"; fi
}
finish() {
  echo "$passed passed, $failed failed, $skipped skipped"
  [ "$failed" -eq 0 ]
  exit
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

bin=${1:-}
if [ -z "$bin" ]; then
  not_ok "usage: $0 PATH-TO-BERTH"
  finish
fi
case $bin in */*) bin=$(cd "$(dirname "$bin")" 2>/dev/null && pwd)/$(basename "$bin") ;; esac
if ! command -v "$bin" >/dev/null 2>&1 || ! "$bin" --help >"$tmp/help" 2>&1; then
  not_ok "\`$bin --help\` runs"
  finish
fi
ok "\`$(basename "$bin") --help\` runs"

# --- parsing --help -------------------------------------------------------

# Subcommands: the first word of each line of the "Commands:" section that is
# indented like its first line (deeper lines are wrapped descriptions).
list_commands() {  # list_commands HELP-FILE
  awk '
    /^[[:space:]]*([A-Za-z ]*[Cc]ommands|COMMANDS)[[:space:]]*:?[[:space:]]*$/ { in_cmds = 1; indent = -1; next }
    in_cmds && /^[^[:space:]]/ { in_cmds = 0 }
    in_cmds && NF > 0 {
      match($0, /^[[:space:]]*/)
      if (indent < 0) indent = RLENGTH
      if (RLENGTH != indent) next
      word = $1; sub(/,$/, "", word)
      if (word ~ /^[a-z][a-z0-9-]*$/) print word
    }' "$1"
}

# Flags: from the option lines (indented, starting with "-"), only the first
# column (up to a run of two spaces), so descriptions that mention other
# flags do not count. A "global options" header ends the list, so a
# subcommand help that repeats the global options is read correctly.
list_flags() {  # list_flags HELP-FILE long|short
  awk '
    /^[[:space:]]*[A-Za-z ]*[Gg][Ll][Oo][Bb][Aa][Ll][A-Za-z ]*:[[:space:]]*$/ { if (seen) exit }
    /^[[:space:]]+-/ {
      seen = 1
      line = $0; sub(/^[[:space:]]+/, "", line)
      if (match(line, /[[:space:]][[:space:]]/)) line = substr(line, 1, RSTART - 1)
      print line
    }' "$1" |
  if [ "$2" = long ]; then
    grep -oE -- '--[a-z0-9][a-z0-9-]*'
  else
    grep -oE -- '(^|[[:space:],[])-[a-zA-Z]([[:space:],]|$)' | grep -oE -- '-[a-zA-Z]'
  fi | sort -u
}

# Global help: runc's and Boost's both list the global options before or
# after the commands; the commands section has no "-" lines, so list_flags
# over the whole output gives the global flags.
list_global_flags() {  # list_global_flags HELP-FILE long|short
  awk '/^[[:space:]]+-/ { line = $0; sub(/^[[:space:]]+/, "", line)
         if (match(line, /[[:space:]][[:space:]]/)) line = substr(line, 1, RSTART - 1)
         print line }' "$1" |
  if [ "$2" = long ]; then
    grep -oE -- '--[a-z0-9][a-z0-9-]*'
  else
    grep -oE -- '(^|[[:space:],[])-[a-zA-Z]([[:space:],]|$)' | grep -oE -- '-[a-zA-Z]'
  fi | sort -u
}

# Flags defined in a man page's OPTIONS (or GLOBAL OPTIONS) section: the
# lines of that section that start with "*-" in scdoc.
man_flags() {  # man_flags SCD-FILE SECTION
  awk -v want="# $2" '
    /^# / { in_sec = ($0 == want); next }
    in_sec && /^\*-/ { print }' "$1" |
    grep -oE -- '(--[a-z0-9][a-z0-9-]*|(^|[^a-zA-Z0-9-])-[a-zA-Z]([^a-zA-Z0-9-]|$))' |
    grep -oE -- '(--[a-z0-9][a-z0-9-]*|-[a-zA-Z])' | sort -u
}

missing() {  # missing WANTED-FILE HAVE-FILE: words of the first not in the second
  comm -23 <(sort -u "$1") <(sort -u "$2") | grep -vx -- '--help\|-h' | tr '\n' ' ' | sed 's/ $//'
}
extra() {  # extra HAVE-FILE WANTED-FILE: words of the first not in the second (help aside)
  comm -23 <(sort -u "$1") <(sort -u "$2") | grep -vx -- '--help\|-h' | tr '\n' ' ' | sed 's/ $//'
}
# zsh specs name a flag as '--flag[...]', '--flag=[...]' or {-f,--flag} /
# {-f+,--flag=}: the flag followed by one of "[=,}".
zsh_knows() { grep -qE -- "$1[]=[,}]" "$zsh_comp"; }

# --- completions, driven for real -----------------------------------------

bash_complete() {  # bash_complete WORD...: what the bash completion offers
  bash -c '
    source "$1" || exit 1
    shift
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
    _'"$name"'
    printf "%s\n" "${COMPREPLY[@]}"' _ "$bash_comp" "$@" 2>/dev/null | sed '/^$/d' | sort -u
}

have_fish=0
command -v fish >/dev/null 2>&1 && have_fish=1
fish_complete() {  # fish_complete COMMAND-LINE: what the fish completion offers
  # shellcheck disable=SC2016 # $argv is fish's, expanded by fish
  fish -N -c 'source $argv[1]; complete -C $argv[2]' "$fish_comp" "$1" 2>/dev/null |
    cut -f1 | sed '/^$/d' | sort -u
}

# --- subcommands ----------------------------------------------------------

list_commands "$tmp/help" | grep -vx 'help\|h' >"$tmp/commands.all"
grep -vx init "$tmp/commands.all" >"$tmp/commands"
if [ -s "$tmp/commands" ]; then
  ok "--help lists $(wc -l <"$tmp/commands") subcommands"
else
  not_ok "--help lists subcommands (found none)"
fi
if grep -qx init "$tmp/commands.all"; then
  not_ok "--help hides the init subcommand"
else
  ok "--help hides the init subcommand"
fi

mapfile -t commands <"$tmp/commands"

# Every listed subcommand has a page, is named in berth(8) and is built.
m=()
for c in "${commands[@]}"; do [ -f "$man_dir/$name-$c.8.scd" ] || m+=("$name-$c.8.scd"); done
check "every subcommand has a man page" "${m[*]}"
m=()
for c in "${commands[@]}"; do grep -q "^\*$c\*\$" "$man_dir/$name.8.scd" || m+=("$c"); done
check "$name.8 lists every subcommand under COMMANDS" "${m[*]}"
m=()
for c in "${commands[@]}"; do grep -q "'$name-$c\.8'" "$src/docs/meson.build" || m+=("$name-$c.8"); done
check "docs/meson.build builds every subcommand's page" "${m[*]}"
m=()
for f in "$man_dir/$name"-*.8.scd; do
  c=$(basename "$f" .8.scd); c=${c#"$name"-}
  grep -qx -- "$c" "$tmp/commands" || m+=("$(basename "$f")")
done
check_extra "no man page for a subcommand --help does not list" "${m[*]}"

# The completions offer exactly the subcommands (init stays hidden).
bash_complete "$name" "" >"$tmp/bash.commands"
check "bash completion offers every subcommand" "$(missing "$tmp/commands" "$tmp/bash.commands")"
check_extra "bash completion offers no other subcommand" "$(extra "$tmp/bash.commands" "$tmp/commands")"
m=()
for c in "${commands[@]}"; do grep -q "^ *'$c:" "$zsh_comp" || m+=("$c"); done
check "zsh completion offers every subcommand" "${m[*]}"
if grep -q "^ *'init:" "$zsh_comp" || grep -q -- '-a init\b' "$fish_comp"; then
  not_ok "zsh and fish completions do not offer init"
else
  ok "zsh and fish completions do not offer init"
fi
if [ $have_fish = 1 ]; then
  fish_complete "$name " >"$tmp/fish.commands"
  check "fish completion offers every subcommand" "$(missing "$tmp/commands" "$tmp/fish.commands")"
  check_extra "fish completion offers no other subcommand" "$(extra "$tmp/fish.commands" "$tmp/commands")"
else
  m=()
  for c in "${commands[@]}"; do grep -q -- "-a $c " "$fish_comp" || m+=("$c"); done
  check "fish completion offers every subcommand (text search: fish not installed)" "${m[*]}"
fi

# --- global flags ---------------------------------------------------------

list_global_flags "$tmp/help" long >"$tmp/global.long"
list_global_flags "$tmp/help" short >"$tmp/global.short"
cat "$tmp/global.long" "$tmp/global.short" >"$tmp/global.flags"
man_flags "$man_dir/$name.8.scd" "GLOBAL OPTIONS" >"$tmp/man.global"
check "$name.8 documents every global flag ($(tr '\n' ' ' <"$tmp/global.flags" | sed 's/ $//'))" \
  "$(missing "$tmp/global.flags" "$tmp/man.global")"
check_extra "$name.8 documents no global flag that --help does not show" "$(extra "$tmp/man.global" "$tmp/global.flags")"
{ bash_complete "$name" "--"; bash_complete "$name" "-"; } | sort -u >"$tmp/bash.global"
check "bash completion offers every global flag" "$(missing "$tmp/global.flags" "$tmp/bash.global")"
check_extra "bash completion offers no global flag that --help does not show" "$(extra "$tmp/bash.global" "$tmp/global.flags")"
m=()
while read -r f; do zsh_knows "$f" || m+=("$f"); done <"$tmp/global.long"
check "zsh completion offers every global long flag" "${m[*]}"
if [ $have_fish = 1 ]; then
  fish_complete "$name --" >"$tmp/fish.global"
  check "fish completion offers every global long flag" "$(missing "$tmp/global.long" "$tmp/fish.global")"
fi

# --- each subcommand's flags ----------------------------------------------

for c in "${commands[@]}"; do
  page=$man_dir/$name-$c.8.scd
  "$bin" "$c" --help >"$tmp/help.$c" 2>&1
  list_flags "$tmp/help.$c" long >"$tmp/$c.long"
  list_flags "$tmp/help.$c" short >"$tmp/$c.short"
  cat "$tmp/$c.long" "$tmp/$c.short" >"$tmp/$c.flags"
  shown=$(tr '\n' ' ' <"$tmp/$c.flags" | sed 's/ $//')

  if [ -f "$page" ]; then
    man_flags "$page" OPTIONS >"$tmp/$c.man"
    check "$name-$c.8 documents every flag of \`$c\` (${shown:-none})" "$(missing "$tmp/$c.flags" "$tmp/$c.man")"
    check_extra "$name-$c.8 documents no flag that \`$c --help\` does not show" "$(extra "$tmp/$c.man" "$tmp/$c.flags")"
  fi

  { bash_complete "$name" "$c" "--"; bash_complete "$name" "$c" "-"; } | sort -u >"$tmp/$c.bash"
  check "bash completion offers every flag of \`$c\`" "$(missing "$tmp/$c.flags" "$tmp/$c.bash")"
  check_extra "bash completion offers no flag that \`$c --help\` does not show" "$(extra "$tmp/$c.bash" "$tmp/$c.flags")"

  m=()
  while read -r f; do zsh_knows "$f" || m+=("$f"); done <"$tmp/$c.long"
  check "zsh completion knows every long flag of \`$c\`" "${m[*]}"

  if [ $have_fish = 1 ]; then
    fish_complete "$name $c --" >"$tmp/$c.fish"
    check "fish completion offers every long flag of \`$c\`" "$(missing "$tmp/$c.long" "$tmp/$c.fish")"
    check_extra "fish completion offers no flag that \`$c --help\` does not show" "$(extra "$tmp/$c.fish" "$tmp/$c.long")"
  fi
done

# --- syntax of the completion files ---------------------------------------

if bash -n "$bash_comp" 2>"$tmp/err"; then ok "bash -n $name"; else not_ok "bash -n $name: $(head -n3 "$tmp/err")"; fi
if command -v zsh >/dev/null 2>&1; then
  if zsh -n "$zsh_comp" 2>"$tmp/err"; then ok "zsh -n _$name"; else not_ok "zsh -n _$name: $(head -n3 "$tmp/err")"; fi
else
  skip "zsh -n _$name (zsh is not installed)"
fi
if [ $have_fish = 1 ]; then
  if fish -n "$fish_comp" 2>"$tmp/err"; then ok "fish -n $name.fish"; else not_ok "fish -n $name.fish: $(head -n3 "$tmp/err")"; fi
else
  skip "fish -n $name.fish (fish is not installed; subcommands checked by text search only)"
fi

# --- the man pages build and render ---------------------------------------

# Pages come from scdoc when it is installed, else from the build next to
# the binary (build/cmd/berth -> build/docs/*.8).
roff_dir=
if command -v scdoc >/dev/null 2>&1; then
  roff_dir=$tmp/roff
  mkdir -p "$roff_dir"
  for f in "$man_dir"/*.scd; do
    page=$(basename "$f" .scd)
    if scdoc <"$f" >"$roff_dir/$page" 2>"$tmp/err"; then
      ok "scdoc builds $page"
    else
      not_ok "scdoc builds $page: $(head -n3 "$tmp/err")"
      rm -f "$roff_dir/$page"
    fi
  done
elif ls "$(dirname "$bin")/../docs/"*.8 >/dev/null 2>&1; then
  roff_dir=$(dirname "$bin")/../docs
  skip "scdoc builds the pages (scdoc is not installed; rendering the built pages)"
else
  skip "scdoc builds the pages (scdoc is not installed and no built pages were found)"
fi

if [ -n "$roff_dir" ]; then
  if command -v groff >/dev/null 2>&1; then
    for f in "$roff_dir"/*.8; do
      [ -f "$f" ] || continue
      groff -man -Tutf8 -ww -z "$f" 2>"$tmp/err"
      if [ -s "$tmp/err" ]; then
        not_ok "groff renders $(basename "$f") without warnings: $(head -n3 "$tmp/err")"
      else
        ok "groff renders $(basename "$f") without warnings"
      fi
    done
  else
    skip "groff renders the pages (groff is not installed)"
  fi
  if command -v man >/dev/null 2>&1; then
    bad=()
    for f in "$roff_dir"/*.8; do
      [ -f "$f" ] || continue
      out=$(MANWIDTH=80 man --warnings -l "$f" 2>"$tmp/err" | wc -l)
      { [ -s "$tmp/err" ] || [ "$out" -lt 5 ]; } && bad+=("$(basename "$f")")
    done
    check "man -l shows every page without warnings" "${bad[*]}"
  else
    skip "man -l shows the pages (man is not installed)"
  fi
fi

finish
