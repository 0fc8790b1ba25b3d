#!/usr/bin/env bash
# installcheck.sh PREFIX: the installed seqpipe works without the build
# tree: `pipeline` runs from PREFIX, finds its plugins there, and a plugin
# built out of tree with pkg-config loads through SEQPIPE_PLUGIN_PATH.
# Prints TAP.
prefix=$1
. "$(dirname "$0")/tap.sh"
srcdir=$top_srcdir
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export LD_LIBRARY_PATH="$prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
"$prefix/bin/pipeline" --version >out 2>&1
ok $? "installed pipeline runs"
"$prefix/bin/pipeline" plugins >out 2>&1
grep -q "install dir" out && grep -q "lstm" out && ! grep -q "build tree" out
ok $? "it finds its plugins in the install dir, not the build tree"
"$prefix/bin/pipeline" run "$prefix/share/seqpipe/pipelines/hello.pipe" >out 2>&1
ok $? "the installed hello pipeline trains from the installed data"
pkg-config --exists seqpipe
ok $? "pkg-config finds seqpipe"
gcc -shared -fPIC -Wl,--no-undefined -Wall -Wextra -Werror $(pkg-config --cflags seqpipe) \
	"$srcdir/doc/example-plugin/myplugin.c" -o myplugin.so $(pkg-config --libs seqpipe) -lm 2>err
ok $? "the example plugin builds out of tree with pkg-config ($(head -c 300 err))"
SEQPIPE_PLUGIN_PATH=$work "$prefix/bin/pipeline" plugins >out 2>&1
grep -q "myplugin 1.0" out && grep -q "spaces" out
ok $? "SEQPIPE_PLUGIN_PATH loads it"
# The example model plugin: a recurrent cell written as gate math
# (sp_cell_ops), built out of tree, then trains hello.pipe in place of the rnn.
gcc -shared -fPIC -O2 -Wall -Wextra -Werror $(pkg-config --cflags seqpipe) \
	"$srcdir/doc/example-plugin/mgu.c" -o mgu.so $(pkg-config --libs seqpipe) 2>err
ok $? "the example model plugin (mgu) builds out of tree with pkg-config ($(head -c 300 err))"
SEQPIPE_PLUGIN_PATH=$work "$prefix/bin/pipeline" run \
	"$prefix/share/seqpipe/pipelines/hello.pipe" --set model.plugin=mgu.mgu >out 2>&1
rc=$?
loss=$(sed -n 's/^final train loss \([0-9.e+-]*\).*/\1/p' out)
[ $rc -eq 0 ] && [ -n "$loss" ] && awk -v l="$loss" 'BEGIN { exit !(l < 0.1) }'
ok $? "it trains hello.pipe as model.plugin=mgu.mgu (final train loss ${loss:-none}; $(tail -c 200 out))"
# The example head plugin: label smoothing with a metric of its own
# (smoothed_xent, lower is better), built out of tree, checked by the
# harness, then trains hello.pipe as head.plugin=smooth.next (a user module
# is named MODULE.COMPONENT): p converges to the smoothed target, whose
# entropy (0.349 for 4 labels, epsilon 0.1) is the floor of the loss.
gcc -shared -fPIC -O2 -Wl,--no-undefined -Wall -Wextra -Werror $(pkg-config --cflags seqpipe) \
	"$srcdir/doc/example-plugin/smooth.c" -o smooth.so $(pkg-config --libs seqpipe) -lm 2>err
ok $? "the example head plugin (smooth) builds out of tree with pkg-config ($(head -c 300 err))"
"$prefix/bin/pipeline" check --plugin ./smooth.so >out 2>&1
rc=$?
[ $rc -eq 0 ] && [ "$(grep -c '^ok' out)" -eq 10 ] && ! grep -q '^not ok' out
ok $? "pipeline check --plugin ./smooth.so: all ok ($(grep -c '^ok' out) checks)"
SEQPIPE_PLUGIN_PATH=$work "$prefix/bin/pipeline" run \
	"$prefix/share/seqpipe/pipelines/hello.pipe" --set head.plugin=smooth.next >out 2>&1
rc=$?
sx=$(sed -n 's/^final train smoothed_xent \([0-9.e+-]*\).*/\1/p' out)
[ $rc -eq 0 ] && [ -n "$sx" ] && awk -v l="$sx" 'BEGIN { exit !(l > 0.34 && l < 0.36) }'
ok $? "it trains hello.pipe as head.plugin=smooth.next (final train smoothed_xent ${sx:-none}, floor 0.349; $(tail -c 200 out))"
SEQPIPE_PLUGIN_PATH=$work "$prefix/bin/pipeline" check --plugin rnn >out 2>&1
ok $? "the installed harness checks the installed rnn plugin ($(grep -c '^ok' out) checks)"
printf '#include <sp_harness.h>\n#include <sp_cell.h>\nint main(void) { sp_harness_opts o; sp_harness_opts_init(&o); return o.T == 4 ? 0 : 1; }\n' >h.c
gcc -std=c99 -pedantic -Werror $(pkg-config --cflags seqpipe) h.c -o h $(pkg-config --libs seqpipe) 2>err && ./h
ok $? "a program links the installed harness and engine headers ($(head -c 300 err))"
nm -D --defined-only "$prefix/lib/libseqpipe.so" | awk '$2 ~ /^[TDRBVWG]$/ && $3 !~ /^_/' >syms
! grep -q 'sp_runner_\|sp_registry_\|sp_runlog_' syms
ok $? "the installed library exports $(wc -l <syms) public symbols, none of the host's"
tap_done
