#!/usr/bin/env bash
# t_plugins.sh: which plugin modules `pipeline` opens and which it refuses,
# from the command line: a module on SEQPIPE_PLUGIN_PATH is opened only
# when a .pipe names it (or `pipeline plugins` lists), two modules defining
# one component name are reported with both files, a module with an
# unresolved symbol is refused when opened; and `pipeline check --plugin`.
. "$(dirname "$0")/tap.sh"
HELLO="$top_srcdir/pipelines/hello.pipe"
TP="$top_builddir/tests/plugins"

export SEQPIPE_TEST_OPENED="$work/opened"

# --- which modules are opened ---------------------------------------------
run env SEQPIPE_PLUGIN_PATH="$TP/clash" "$PIPELINE" check "$HELLO"
ok $([ $rc -eq 0 ] && [ ! -e "$work/opened" ] && echo 0 || echo 1) \
	"a module on the path defining the built-in 'chars' is not opened by a .pipe that does not name it ($err)"
run env SEQPIPE_PLUGIN_PATH="$TP/clash" "$PIPELINE" check "$HELLO" --set tokenize.plugin=shadow.chars
ok $([ $rc -eq 0 ] && [ "$(cat "$work/opened" 2>/dev/null)" = shadow ] && echo 0 || echo 1) \
	"named with its module, only that module is opened ($(cat "$work/opened" 2>/dev/null | tr '\n' ' '))"
rm -f "$work/opened"
run env SEQPIPE_PLUGIN_PATH="$TP/clash" "$PIPELINE" check "$HELLO" --set tokenize.plugin=twin
ok $([ $rc -eq 1 ] && contains "$err" "MODULE.twin" && [ ! -e "$work/opened" ] && echo 0 || echo 1) \
	"a bare name of a module nobody named: not opened, the error says to name the module ($err)"
run env SEQPIPE_PLUGIN_PATH="$TP/clash" "$PIPELINE" plugins
ok $([ $rc -eq 0 ] && contains "$err" "'chars' is defined by two modules" && contains "$err" "shadow.la" \
	&& contains "$err" "tokenizers.la" && contains "$err" "'twin' is defined by two modules" && echo 0 || echo 1) \
	"listing reports each name two modules define, naming both files"
[ "$(printf '%s\n' "$err" | grep -c 'twina.la.*twinb.la')" -eq 1 ]
ok $? "one line per clash"

# --- modules refused when opened ------------------------------------------
run env SEQPIPE_PLUGIN_PATH="$TP" "$PIPELINE" check "$HELLO" --set tokenize.plugin=unresolved.unres
ok $([ $rc -eq 1 ] && contains "$err" "undefined symbol 'sp_no_such_function'" && echo 0 || echo 1) \
	"a module with an unresolved symbol is refused at check, naming the symbol ($err)"
[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ]
ok $? "in one line"
run env SEQPIPE_PLUGIN_PATH="$TP" "$PIPELINE" run "$HELLO" --set tokenize.plugin=unresolved.unres
ok $([ $rc -eq 1 ] && contains "$err" "sp_no_such_function" && echo 0 || echo 1) \
	"and at run, before training, not killed mid-run (exit $rc)"
run env SEQPIPE_PLUGIN_PATH="$TP" "$PIPELINE" check "$HELLO" --set tokenize.plugin=badabi.x
ok $([ $rc -eq 1 ] && contains "$err" "ABI 2, expected ABI 1" && contains "$err" "none of its code was run" && echo 0 || echo 1) \
	"a module of another ABI is refused from its note ($err)"

# --- the component harness -------------------------------------------------
for m in rnn heads; do
	run "$PIPELINE" check --plugin $m
	ok $([ $rc -eq 0 ] && ! contains "$out" "not ok" && [ "$(printf '%s\n' "$out" | grep -c '^ok')" -ge 15 ] && echo 0 || echo 1) \
		"check --plugin $m: every weight and input gradient of every component agrees with finite differences ($(printf '%s\n' "$out" | grep -c '^ok') checks)"
done
run "$PIPELINE" check --plugin "$TP/badgrad.la"
ok $([ $rc -eq 1 ] && contains "$out" "not ok 3 - badgrad.scale: dw" && contains "$out" "ok 4 - badgrad.scale: dx" \
	&& contains "$err" "1 check failed" && echo 0 || echo 1) \
	"a deliberately wrong backward is caught: exit 1, the weight named ($err)"
run "$PIPELINE" check --plugin rnn --set hidden=2 --set model.layers=2
ok $([ $rc -eq 0 ] && contains "$out" "dl1.Wh" && echo 0 || echo 1) "--set reaches the components' keys"
run "$PIPELINE" check --plugin "$TP/unresolved.la"
ok $([ $rc -eq 1 ] && contains "$err" "sp_no_such_function" && echo 0 || echo 1) "a module that does not load: one error line"

tap_done
