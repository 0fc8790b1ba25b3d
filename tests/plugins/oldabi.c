/* A plugin of another ABI built without the ELF note (as a header before
 * the note wrote them): the host refuses it from its descriptor. */
#include "sp_plugin.h"

static const sp_component *const oldabi_components_[] = {NULL};
static const sp_plugin oldabi_plugin_ = {SP_ABI_VERSION + 1, "oldabi", "0.9",
					 "built for another ABI, no note",
					 oldabi_components_};
const sp_plugin *oldabi_LTX_sp_plugin_entry(void);
const sp_plugin *oldabi_LTX_sp_plugin_entry(void)
{
	return &oldabi_plugin_;
}
