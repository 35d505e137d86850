// undici's Pool module on its own (app-pool.ts loads it without the package's index); its type is the package's.
declare module 'undici/lib/dispatcher/pool.js' {
  import type { Pool } from 'undici';

  const PoolClass: typeof Pool;
  export default PoolClass;
}
