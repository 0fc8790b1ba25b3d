/* A plugin that claims a future ABI, in its ELF note and its descriptor:
 * the host must refuse it from the note, before any of its code runs (its
 * constructor would set SEQPIPE_TEST_BADABI_RAN). */
#include <stdlib.h>

#include "sp_plugin.h"

__attribute__((constructor)) static void badabi_ran_(void)
{
	setenv("SEQPIPE_TEST_BADABI_RAN", "1", 1);
}

__attribute__((section(".note.seqpipe"), used, aligned(4))) static const struct {
	uint32_t namesz, descsz, type;
	char name[8];
	int32_t abi;
} badabi_note_ = {8, 4, 1, "seqpipe", SP_ABI_VERSION + 1};

static const sp_component *const badabi_components_[] = {NULL};
static const sp_plugin badabi_plugin_ = {SP_ABI_VERSION + 1, "badabi", "9.9",
					 "built for another ABI",
					 badabi_components_};
const sp_plugin *badabi_LTX_sp_plugin_entry(void);
const sp_plugin *badabi_LTX_sp_plugin_entry(void)
{
	return &badabi_plugin_;
}
