#!/usr/bin/env bash
# t_cli_conlleval.sh: `pipeline conlleval [FILE|-]` end to end: a file and
# standard input give conlleval's report byte for byte (a fixture of
# tests/data/conlleval), a malformed line is one error naming file:line
# (exit 1), a bad command line exits 2.
. "$(dirname "$0")/tap.sh"
FIX="$top_srcdir/tests/data/conlleval"

"$PIPELINE" conlleval "$FIX/wnut17.noise.txt" >out 2>err
ok $([ $? -eq 0 ] && cmp -s out "$FIX/wnut17.noise.conlleval" && [ ! -s err ] && echo 0 || echo 1) \
	"a file: conlleval's report, byte for byte"
"$PIPELINE" conlleval - <"$FIX/btc_f.types.txt" >out 2>err
ok $([ $? -eq 0 ] && cmp -s out "$FIX/btc_f.types.conlleval" && echo 0 || echo 1) "standard input with -"
"$PIPELINE" conlleval <"$FIX/wnut17.split.txt" >out 2>err
ok $([ $? -eq 0 ] && cmp -s out "$FIX/wnut17.split.conlleval" && echo 0 || echo 1) "standard input without an argument"
printf 'a B-PER B-PER\nb O\n' >bad.txt
"$PIPELINE" conlleval bad.txt >out 2>err
rc=$?
ok $([ $rc -eq 1 ] && grep -q 'bad.txt:2: 2 fields, expected 3' err && [ "$(wc -l <err)" -eq 1 ] && echo 0 || echo 1) \
	"another number of fields: exit 1, one line naming bad.txt:2 ($(cat err))"
"$PIPELINE" conlleval missing.txt >out 2>err
ok $([ $? -eq 1 ] && grep -q 'missing.txt: cannot open' err && echo 0 || echo 1) "a missing file: exit 1"
"$PIPELINE" conlleval a.txt b.txt >out 2>err
ok $([ $? -eq 2 ] && grep -q 'usage: pipeline conlleval' err && echo 0 || echo 1) "two files: exit 2 with the usage"
"$PIPELINE" conlleval --help >out 2>err
ok $([ $? -eq 0 ] && grep -q 'usage: pipeline conlleval' out && echo 0 || echo 1) "--help"
"$PIPELINE" --help >out 2>err
ok $(grep -q 'conlleval' out && echo 0 || echo 1) "the program's --help lists conlleval"

tap_done
