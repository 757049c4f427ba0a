/**
 * Tessera Studio: the page's entry. Loads the bundled models and images,
 * mounts the three views (ViT, digit reversal, compiler) behind tabs
 * (#vit, #reverse, #compiler in the address), and says where it runs:
 * cross-origin isolated (worker threads for cpu) or not, WebGPU or not.
 */
import { loadReverser, loadRnnReverser, loadSample, loadVit } from './assets.ts';
import { CompilerView } from './compiler-view.ts';
import { byId, el, messageOf } from './dom.ts';
import { ReverseSession } from './reverse-session.ts';
import { ReverseView } from './reverse-view.ts';
import { RnnSession } from './rnn-session.ts';
import { type ModelBackend, VitSession } from './vit-session.ts';
import { VitView } from './vit-view.ts';
import './style.css';

const VIEWS = ['vit', 'reverse', 'compiler'] as const;

/** Shows the view named in the address (#vit by default). */
function showView(): void {
  const name = VIEWS.find((v) => `#${v}` === location.hash) ?? 'vit';
  for (const v of VIEWS) {
    byId(v).hidden = v !== name;
    byId(`tab-${v}`).classList.toggle('active', v === name);
  }
}

/** The views, for the Chromium test to drive the same actions a click does. */
export interface Studio {
  readonly vit: VitView;
  readonly reverse: ReverseView;
  readonly compiler: CompilerView;
}

async function main(): Promise<Studio> {
  const select = byId<HTMLSelectElement>('backend');
  const backend = () => select.value as ModelBackend;
  const hasGpu = 'gpu' in navigator;
  byId('where').textContent = `${globalThis.crossOriginIsolated ? `cross-origin isolated: cpu on up to ${navigator.hardwareConcurrency} threads` : 'not cross-origin isolated: cpu on one thread'}; ${hasGpu ? 'WebGPU available' : 'no WebGPU in this browser'}`;
  const [vit, reverser, rnn, sample] = await Promise.all([loadVit(), loadReverser(), loadRnnReverser(), loadSample()]);
  const studio = {
    vit: new VitView(new VitSession(vit), sample, backend),
    reverse: new ReverseView(new ReverseSession(reverser), new RnnSession(rnn), backend),
    compiler: new CompilerView({ vit, reverser, sample }, backend),
  };
  studio.vit.mount();
  studio.reverse.mount();
  studio.compiler.mount();
  addEventListener('hashchange', showView);
  showView();
  return studio;
}

main().then(
  (studio) => {
    (globalThis as unknown as { studio: Studio }).studio = studio;
    document.body.dataset.ready = 'true';
  },
  (e) => {
    byId('where').replaceChildren(el('span', { class: 'error' }, `the studio could not start: ${messageOf(e)}`));
    document.body.dataset.ready = 'error';
  },
);
