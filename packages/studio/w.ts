import { compileForView, kernelsWat } from './src/compiler-session.ts';
import { loadModel } from '@tessera/models/node';
import { traceVit } from '@tessera/models';
const m: any = await loadModel('packages/models/trained/vit-fashion-mnist.json', 'packages/models/trained/vit-fashion-mnist.safetensors');
const v = compileForView(traceVit(m.model, 1));
(globalThis as any).crossOriginIsolated = true;
try { console.log((await kernelsWat(v.kernels)).slice(0, 200)); } catch (e) { console.log('ERR', e.message.slice(0, 2000)); }
