# Voilà's config for `workbench dashboard report --auth store` (loaded through
# --Voila.config_file_paths): logins checked against the store, kernels bound to the user.
import os

from workbench.monitoring.voila_login import StoreIdentityProvider, bind_user

c = get_config()  # type: ignore[name-defined]  # noqa: F821 - traitlets defines it on load
c.Voila.identity_provider_class = StoreIdentityProvider
c.VoilaConfiguration.prelaunch_hook = bind_user
# derived from the store's key by `workbench dashboard report`: logins survive a restart
if os.environ.get("WORKBENCH_REPORT_COOKIE_SECRET"):
    c.Voila.cookie_secret = os.environ["WORKBENCH_REPORT_COOKIE_SECRET"].encode()
