/* A plugin whose descriptor names another module than its file: the host
 * must refuse it (a silent mix-up otherwise). */
#include "sp_plugin.h"

static const sp_component *const misnamed_components_[] = {NULL};
static const sp_plugin misnamed_plugin_ = {SP_ABI_VERSION, "othername", "1.0",
					   "descriptor name differs from the file",
					   misnamed_components_};
const sp_plugin *misnamed_LTX_sp_plugin_entry(void);
const sp_plugin *misnamed_LTX_sp_plugin_entry(void)
{
	return &misnamed_plugin_;
}
