// `npm run lint` runs this over supervisor/: no import cycle (type-only imports count, they tie two modules together
// as much as any other), and lower folders never import higher ones (see shared STYLE: layout shows the architecture).
/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: { path: '^supervisor/' }, to: { circular: true } },
    {
      name: 'core-imports-nothing-of-ours',
      severity: 'error',
      from: { path: '^supervisor/core/' },
      to: { path: '^supervisor/', pathNot: '^supervisor/core/' },
    },
    { name: 'http-never-imports-database', severity: 'error', from: { path: '^supervisor/http/' }, to: { path: '^supervisor/database/' } },
    { name: 'migrations-never-import-http', severity: 'error', from: { path: '^supervisor/migrations/' }, to: { path: '^supervisor/http/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^supervisor/dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'supervisor/tsconfig.json' },
  },
};
