// dirty-log.pml: Intel Page Modification Logging, as the SDM describes it. The
// mechanism is shared with the other dirty-log providers (../common.ts); this plugin
// selects it and provides the DirtyLog service that migration.precopy and the wss.*
// estimators read.

import { definePlugin } from 'virtlab';
import { registerDirtyLog } from '../common';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  registerDirtyLog(api, 'pml');
});
