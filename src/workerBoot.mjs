// A worker thread's entry when running from source (tests, `npm run dev`): module hooks are per
// thread on Node 20, so tsx is registered here before the TypeScript module (the last argument
// given to the worker) is loaded. Compiled code (`dist/`) starts its `.js` modules directly.
import { register } from 'tsx/esm/api';

register();
await import(process.argv.at(-1));
