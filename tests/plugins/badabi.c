/* A plugin that claims a future ABI: the host must refuse it before
 * calling anything but the entry function. */
#include "sp_plugin.h"

static const sp_component *const badabi_components_[] = {NULL};
static const sp_plugin badabi_plugin_ = {SP_ABI_VERSION + 1, "badabi", "9.9",
					 "built for another ABI",
					 badabi_components_};
const sp_plugin *badabi_LTX_sp_plugin_entry(void);
const sp_plugin *badabi_LTX_sp_plugin_entry(void)
{
	return &badabi_plugin_;
}
