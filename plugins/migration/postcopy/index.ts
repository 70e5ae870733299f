// migration.postcopy: the live-migration engine of core/models/migration/engine.ts in
// postcopy mode, with QEMU's defaults as option defaults. It provides the MigrationService
// through which triggers (migration.schedule, maintenance) start migrations, and writes
// migrations.json (every migration, its rounds and decisions) with the results.

import { definePlugin, registerMigrationMethod } from 'virtlab';
import type { Options } from './options';

export default definePlugin<Options>((api) => {
  registerMigrationMethod(api, 'postcopy');
});
