"""Long-tail classification methods side by side on Digits-LT, on the CPU, over several seeds.

    python tools/benchmarks/digits_lt.py [--seeds 0 1 2] [--methods ce bs ...] [--work-dir DIR] [--rerun]

Trains LeNet-5 (RIDE and TLC, whose experts live in the backbone, and their CE baseline: ResNet-32) on Digits-LT
(scikit-learn's handwritten digits made long-tailed, 120 ... 3 training images per class: 1 many-shot, 4 medium-shot
and 5 few-shot classes; balanced test split of 40 images per class) with each method's Digits-LT config from
``configs/`` and prints the test top-1 accuracy, All / Many / Medium / Few (the mean of per-class accuracies in each
group), as mean +- std over the seeds, and the few-shot change against CE with the same backbone. The seed changes
the training (weights, sampling, augmentation); the Digits-LT split is always the same (generated with seed 0).

Methods (``--methods``; all by default):
  ce            softmax cross-entropy (configs/baseline), also stage 1 of the decoupled methods
  bs            Balanced Softmax loss (configs/balanced_softmax)
  la            logit-adjusted loss, tau = 1 (configs/logit_adjustment)
  la-posthoc    post-hoc logit adjustment of the CE model, tau = 1 (no training)
  ldam-drw      LDAM loss on a cosine classifier with deferred re-weighting (configs/ldam_drw)
  crt           classifier re-training on the frozen CE backbone, class-aware sampling (configs/decoupling)
  lws           learnable weight scaling of the CE classifier (configs/decoupling)
  tau-norm      tau-normalised CE classifier, tau chosen on the val split (configs/decoupling, tau_sweep.py)
  ce-resnet32   softmax cross-entropy with the CIFAR ResNet-32 (configs/baseline): RIDE's baseline
  ride          RIDE, 3 experts on a ResNet-32 with per-expert stages 2-3, RIDE loss (configs/ride)
  ride-ea       RIDE's stage 2: the expert-assignment router trained on the frozen RIDE model (configs/ride)
  ws            Weighted Softmax, class weights 1 + ln(n_max / n_c) (configs/weighted_softmax)
  focal         softmax focal loss, the survey's form: gamma 3, modulating factor detached (configs/focal)
  lade          LADE: prior-compensated CE + LADER regulariser (configs/lade)
  tde           De-confound training, TDE counterfactual subtraction at test, alpha 1.5 (configs/tde)
  mixup         CE with mixup: MiSLAS's stage 1 (configs/mislas)
  mislas        MiSLAS stage 2 on the mixup model: label-aware smoothing, LWS, shifted BN (configs/mislas)
  area          AREA: CE re-weighted by the inverse effective area of each class from epoch 24 (configs/area)
  reslt         ResLT: 3 residual branches (all / medium+few / few-shot classes), summed logits (configs/reslt)
  ccsam-stage1  CC-SAM stage 1: mixup + class-conditional perturbation of the classifier (configs/ccsam)
  ccsam         CC-SAM stage 2 on its stage-1 model: class-conditional adversarial features, class-aware sampling,
                frozen backbone (configs/ccsam)
  rsg           LDAM-DRW + RSG after LeNet's first conv stage (configs/rsg)
  glmc          GLMC: MixUp/CutMix of instance and re-balanced pairs, cumulative re-weighted head, SimSiam
                consistency (configs/glmc)
  sade          SADE, 3 experts (forward-LT, uniform, backward-LT) on a ResNet-32, the mean of the experts
                (configs/sade)
  tlc           TLC, 3 evidential experts on a ResNet-32 (stem shared), evidential fusion, TLC loss (configs/tlc)
  balpoe        BalPoE, 3 logit-adjusted experts (tau 0, 1, 2) on a ResNet-32 + mixup 0.4, the mean of the experts
                (configs/balpoe)
  mdcs          MDCS, 3 experts on a ResNet-32 (prior exponents -0.5, 1, 2.5), weak-to-strong self-distillation
                (configs/mdcs)
  ncl           NCL: 3 independent LeNet-5s, balanced CE + hard category mining + mutual distillation (configs/ncl)
  ncl-moco      NCL with its self-supervised enhancement: a MoCo key network and queue per expert (configs/ncl)
  deit-lt       DeiT-LT: a tiny distilled ViT, hard distillation through DIST from the CE LeNet-5 of the same seed
                (configs/deit_lt)
  ride-teacher  RIDE with 6 experts on a ResNet-32: the distillation teacher (configs/ride)
  ride-distill  RIDE, 4 experts distilled from the 6-expert teacher of the same seed (configs/ride)
  paco          PaCo: supervised MoCo with learnable class centres and the log-prior term (configs/paco)
  gpaco         GPaCo: PaCo without the momentum encoder, both views anchors (configs/gpaco)
  bcl           BCL: logit-adjusted cosine classifier + balanced contrast with class prototypes (configs/bcl)
  kcl-stage1    KCL stage 1: k-positive contrast with a momentum encoder and queue (configs/kcl)
  kcl           KCL: linear probe on the frozen stage-1 backbone (configs/kcl)
  tsc-stage1    TSC stage 1: KCL pre-training (configs/tsc)
  tsc-contrast  TSC stage 2: targeted supervised contrast from the KCL model (configs/tsc)
  tsc           TSC: linear probe on the frozen TSC backbone (configs/tsc)
  sbcl-stage1   SBCL stage 1: subclass-balancing contrast, re-clustered every 5 epochs (configs/sbcl; no row)
  sbcl          SBCL: LDAM-CB cosine probe on the frozen stage-1 backbone (configs/sbcl)
  shike         SHIKE, 3 experts on its depth-wise fusion ResNet-32: DKT, then re-trained balanced-softmax
                classifiers on the frozen features for the last 6 epochs (configs/shike)
  lfme-expert-few, lfme-expert-medium, lfme-expert-many
                LFME's experts: a LeNet-5 on the few / medium / many-shot classes only (configs/lfme; no row)
  lfme          LFME: a LeNet-5 distilled from the three experts of the same seed with self-paced expert weights
                and curriculum instance weights (configs/lfme)

Outputs under ``--work-dir`` (default ``work_dirs/benchmarks/digits_lt``): the data, each run's work dir
``seed<S>/<method>/`` (logs, checkpoint, per-class accuracy plot, ``metrics.json``), ``results.json`` (every run's
metrics), ``results.md`` (the table) and ``results.png`` (Many / Medium / Few per method). A run whose
``metrics.json`` exists is not repeated (so an interrupted benchmark continues where it stopped) unless ``--rerun``.
"""
import argparse
import importlib.util
import json
import os
import os.path as osp
import time
from typing import Any, Dict, List

import numpy as np
from mmengine.config import Config
from tqdm import tqdm

from ltmm.demo.digits_lt import make_digits_lt
from ltmm.engine import build_runner

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
KEYS = ('all', 'many', 'medium', 'few')
CE_CONFIG = 'configs/baseline/lenet_1xb32_digits-lt_30e.py'
LFME_GROUPS = ('few', 'medium', 'many')  # the order of the LFME student config's experts
# name -> (label, config, kind): 'train' trains the config; 'pretrain' trains a stage 1 that has no classifier to
# test (no table row); 'stage2' trains it from the stage-1 checkpoint of the same seed (STAGE1: CE unless listed);
# 'distill' trains it with that checkpoint as its teacher; 'test' tests it with that checkpoint; 'tau' picks tau on
# the val split, then tests; 'experts' trains it with the checkpoints of its STAGE1 runs (a tuple) as its experts
METHODS = {
    'ce': ('CE', CE_CONFIG, 'train'),
    'ce-resnet32': ('CE (ResNet-32)', 'configs/baseline/resnet32_1xb32_digits-lt_30e.py', 'train'),
    'bs': ('Balanced Softmax', 'configs/balanced_softmax/balanced-softmax_lenet_1xb32_digits-lt_30e.py', 'train'),
    'la': ('Logit-adjusted loss', 'configs/logit_adjustment/logit-adjusted_lenet_1xb32_digits-lt_30e.py', 'train'),
    'la-posthoc': ('LA post-hoc (CE model)',
                   'configs/logit_adjustment/logit-adjusted-posthoc_lenet_1xb32_digits-lt_30e.py', 'test'),
    'ldam-drw': ('LDAM-DRW', 'configs/ldam_drw/ldam-drw_lenet_1xb32_digits-lt_30e.py', 'train'),
    'crt': ('cRT (CE stage 1)', 'configs/decoupling/crt_lenet_1xb32_digits-lt_10e.py', 'stage2'),
    'lws': ('LWS (CE stage 1)', 'configs/decoupling/lws_lenet_1xb32_digits-lt_5e.py', 'stage2'),
    'tau-norm': ('tau-norm (CE stage 1)', 'configs/decoupling/tau-norm_lenet_1xb32_digits-lt.py', 'tau'),
    'ride': ('RIDE (3 experts, ResNet-32)', 'configs/ride/ride_resnet32_1xb32_digits-lt_30e.py', 'train'),
    'ride-ea': ('RIDE + router (ResNet-32)', 'configs/ride/ride-ea_resnet32_1xb32_digits-lt_5e.py', 'stage2'),
    'ws': ('Weighted Softmax', 'configs/weighted_softmax/weighted-softmax_lenet_1xb32_digits-lt_30e.py', 'train'),
    'focal': ('Focal loss (gamma 3)', 'configs/focal/focal_lenet_1xb32_digits-lt_30e.py', 'train'),
    'lade': ('LADE', 'configs/lade/lade_lenet_1xb32_digits-lt_30e.py', 'train'),
    'tde': ('De-confound-TDE (alpha 1.5)', 'configs/tde/tde_lenet_1xb32_digits-lt_30e.py', 'train'),
    'mixup': ('CE + mixup (MiSLAS stage 1)', 'configs/mislas/stage1-mixup_lenet_1xb32_digits-lt_30e.py', 'train'),
    'mislas': ('MiSLAS (mixup stage 1)', 'configs/mislas/mislas_lenet_1xb32_digits-lt_10e.py', 'stage2'),
    'area': ('AREA (from epoch 24)', 'configs/area/area_lenet_1xb32_digits-lt_30e.py', 'train'),
    'reslt': ('ResLT', 'configs/reslt/reslt_lenet_1xb32_digits-lt_30e.py', 'train'),
    'ccsam-stage1': ('CC-SAM stage 1', 'configs/ccsam/stage1-ccsam_lenet_1xb32_digits-lt_30e.py', 'train'),
    'ccsam': ('CC-SAM (both stages)', 'configs/ccsam/ccsam_lenet_1xb32_digits-lt_10e.py', 'stage2'),
    'rsg': ('LDAM-DRW-RSG', 'configs/rsg/rsg_lenet_1xb32_digits-lt_30e.py', 'train'),
    'glmc': ('GLMC', 'configs/glmc/glmc_lenet_1xb32_digits-lt_30e.py', 'train'),
    'sade': ('SADE (3 experts, ResNet-32)', 'configs/sade/sade_resnet32_1xb32_digits-lt_30e.py', 'train'),
    'tlc': ('TLC (3 experts, ResNet-32)', 'configs/tlc/tlc_resnet32_1xb32_digits-lt_30e.py', 'train'),
    'balpoe': ('BalPoE (3 experts, ResNet-32)', 'configs/balpoe/balpoe_resnet32_1xb32_digits-lt_30e.py', 'train'),
    'mdcs': ('MDCS (3 experts, ResNet-32)', 'configs/mdcs/mdcs_resnet32_1xb32_digits-lt_30e.py', 'train'),
    'ncl': ('NCL (3 LeNet-5s)', 'configs/ncl/ncl_lenet_1xb32_digits-lt_30e.py', 'train'),
    'ncl-moco': ('NCL + MoCo (3 LeNet-5s)', 'configs/ncl/ncl-moco_lenet_1xb32_digits-lt_30e.py', 'train'),
    'deit-lt': ('DeiT-LT (ViT-tiny/8, CE LeNet-5 teacher)',
                'configs/deit_lt/deit-lt_vit-tiny-p8_1xb32_digits-lt_30e.py', 'distill'),
    'ride-teacher': ('RIDE teacher (6 experts, ResNet-32)', 'configs/ride/ride-6e_resnet32_1xb32_digits-lt_30e.py',
                     'train'),
    'ride-distill': ('RIDE + distillation (4 experts)', 'configs/ride/ride-distill-4e_resnet32_1xb32_digits-lt_30e.py',
                     'distill'),
    'paco': ('PaCo', 'configs/paco/paco_lenet_1xb32_digits-lt_30e.py', 'train'),
    'gpaco': ('GPaCo', 'configs/gpaco/gpaco_lenet_1xb32_digits-lt_30e.py', 'train'),
    'bcl': ('BCL', 'configs/bcl/bcl_lenet_1xb32_digits-lt_30e.py', 'train'),
    'kcl-stage1': ('KCL stage 1 (online probe)', 'configs/kcl/kcl_lenet_1xb32_digits-lt_30e.py', 'train'),
    'kcl': ('KCL (linear probe)', 'configs/kcl/kcl-linear_lenet_1xb32_digits-lt_10e.py', 'stage2'),
    'tsc-stage1': ('TSC stage 1: KCL (online probe)', 'configs/tsc/tsc-stage1-kcl_lenet_1xb32_digits-lt_30e.py',
                   'train'),
    'tsc-contrast': ('TSC stage 2 (online probe)', 'configs/tsc/tsc_lenet_1xb32_digits-lt_30e.py', 'stage2'),
    'tsc': ('TSC (linear probe)', 'configs/tsc/tsc-linear_lenet_1xb32_digits-lt_10e.py', 'stage2'),
    'sbcl-stage1': ('SBCL stage 1', 'configs/sbcl/sbcl_lenet_1xb32_digits-lt_30e.py', 'pretrain'),
    'sbcl': ('SBCL (both stages)', 'configs/sbcl/sbcl-linear_lenet_1xb32_digits-lt_10e.py', 'stage2'),
    'shike': ('SHIKE (3 experts, ResNet-32)', 'configs/shike/shike_resnet32_1xb32_digits-lt_30e.py', 'train'),
    **{f'lfme-expert-{group}': (f'LFME {group}-shot expert',
                                f'configs/lfme/lfme-expert-{group}_lenet_1xb32_digits-lt_30e.py', 'pretrain')
       for group in LFME_GROUPS},
    'lfme': ('LFME (3 subset experts)', 'configs/lfme/lfme_lenet_1xb32_digits-lt_30e.py', 'experts'),
}
STAGE1 = {'ride-ea': 'ride', 'mislas': 'mixup', 'ccsam': 'ccsam-stage1', 'ride-distill': 'ride-teacher',
          'deit-lt': 'ce', 'kcl': 'kcl-stage1', 'tsc-contrast': 'tsc-stage1', 'tsc': 'tsc-contrast',
          'sbcl': 'sbcl-stage1', 'lfme': tuple(f'lfme-expert-{group}' for group in LFME_GROUPS)}
# the CE run a method's few-shot accuracy is compared with (same backbone); 'ce' for the others
BASELINES = {'ce': None, 'ce-resnet32': None, 'ride': 'ce-resnet32', 'ride-ea': 'ce-resnet32', 'tlc': 'ce-resnet32',
             'sade': 'ce-resnet32', 'balpoe': 'ce-resnet32', 'mdcs': 'ce-resnet32', 'ride-teacher': 'ce-resnet32',
             'ride-distill': 'ce-resnet32', 'shike': 'ce-resnet32'}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--methods', nargs='+', choices=list(METHODS), default=list(METHODS))
    parser.add_argument('--work-dir', default='work_dirs/benchmarks/digits_lt')
    parser.add_argument('--rerun', action='store_true', help='repeat runs whose metrics.json exists')
    return parser.parse_args()


def load_tau_sweep():
    """tools/analysis/tau_sweep.py as a module (tau selection shared with the command-line tool)."""
    spec = importlib.util.spec_from_file_location('tau_sweep', osp.join(REPO, 'tools', 'analysis', 'tau_sweep.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def config(path: str, work_dir: str, seed: int, **options: Any) -> Config:
    """A method config, quiet and single-process, run with the given seed (data paths resolve from the cwd)."""
    cfg = Config.fromfile(osp.join(REPO, path))
    overrides = {f'{split}_dataloader.{key}': value for split in ('train', 'val', 'test')
                 if cfg.get(f'{split}_dataloader') is not None  # a stage 1 without a classifier tests nothing
                 for key, value in (('num_workers', 0), ('persistent_workers', False))}
    overrides.update({'randomness.seed': seed, 'log_level': 'WARNING', 'default_hooks.checkpoint.save_best': None})
    overrides.update(options)
    cfg.merge_from_dict(overrides)
    cfg.launcher, cfg.work_dir = 'none', work_dir
    return cfg


def shot_metrics(metrics: Dict[str, float]) -> Dict[str, float]:
    return {k: float(metrics[f'shot/{k}']) for k in KEYS}


def prerequisites(name: str) -> List[str]:
    """The runs ``name`` starts from (``STAGE1``; CE unless listed); none for a method trained from scratch."""
    if METHODS[name][2] in ('train', 'pretrain'):
        return []
    before = STAGE1.get(name, 'ce')
    return list(before) if isinstance(before, tuple) else [before]


def run_method(name: str, seed: int, work_dir: str, stage1_ckpts: List[str], tau_sweep) -> Dict[str, float]:
    """Train and/or test one method for one seed; returns its test metrics (and the chosen tau for tau-norm)."""
    _, path, kind = METHODS[name]
    if kind == 'pretrain':
        build_runner(config(path, work_dir, seed)).train()
        return {}
    if kind == 'train':
        runner = build_runner(config(path, work_dir, seed))
        runner.train()
        return shot_metrics(runner.test())
    for before, ckpt in zip(prerequisites(name), stage1_ckpts):
        if not osp.isfile(ckpt):
            raise RuntimeError(f'{name} needs the {before} checkpoint of seed {seed} ({ckpt})')
    if kind == 'experts':
        experts = {f'model.experts.{i}.{key}': value
                   for i, (before, ckpt) in enumerate(zip(STAGE1[name], stage1_ckpts))
                   for key, value in (('checkpoint', ckpt), ('config', osp.join(REPO, METHODS[before][1])))}
        runner = build_runner(config(path, work_dir, seed, **experts))
        runner.train()
        return shot_metrics(runner.test())
    stage1_ckpt = stage1_ckpts[0]
    if kind in ('stage2', 'distill'):
        start = {'load_from': stage1_ckpt} if kind == 'stage2' else {
            'model.teacher.checkpoint': stage1_ckpt,
            'model.teacher.config': osp.join(REPO, METHODS[STAGE1[name]][1])}  # the cwd is the work dir
        runner = build_runner(config(path, work_dir, seed, **start))
        runner.train()
        return shot_metrics(runner.test())
    options: Dict[str, Any] = {'load_from': stage1_ckpt}
    result: Dict[str, float] = {}
    if kind == 'tau':
        rows = tau_sweep.sweep_checkpoint(config(path, work_dir, seed), stage1_ckpt, 'val')
        result['tau'] = options['model.head.tau'] = tau_sweep.best_tau(rows)
    return {**shot_metrics(build_runner(config(path, work_dir, seed, **options)).test()), **result}


def summarise(results: Dict[str, List[Dict[str, float]]], seeds: List[int]) -> str:
    lines = [f'Digits-LT test split, LeNet-5 unless noted, top-1 accuracy (%), mean +- std over seeds {seeds}',
             '', '| method | All | Many | Medium | Few | Few vs CE |', '|---|---|---|---|---|---|']
    for name, runs in results.items():
        baseline = BASELINES.get(name, 'ce')
        cells = []
        for key in KEYS:
            values = np.array([r[key] for r in runs])
            cells.append(f'{values.mean():.1f} +- {values.std():.1f}')
        few = np.mean([r['few'] for r in runs])
        delta = f'{few - np.mean([r["few"] for r in results[baseline]]):+.1f}' if baseline in results else ''
        label = METHODS[name][0]
        if name == 'tau-norm':
            label += ' (tau ' + ', '.join(f'{r["tau"]:g}' for r in runs) + ')'
        lines.append(f'| {label} | ' + ' | '.join(cells) + f' | {delta} |')
    return '\n'.join(lines)


def plot(results: Dict[str, List[Dict[str, float]]], out_file: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    names = list(results)
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(names)), 4), dpi=120)
    for i, key in enumerate(('many', 'medium', 'few')):
        values = np.array([[r[key] for r in results[n]] for n in names])
        ax.bar(x + (i - 1) * 0.27, values.mean(axis=1), 0.27, yerr=values.std(axis=1), label=key, capsize=2)
    ax.set_xticks(x, [METHODS[n][0] for n in names], rotation=30, ha='right', fontsize=8)
    ax.set_ylabel('test top-1 accuracy (%)')
    ax.set_ylim(0, 105)
    ax.set_title('Digits-LT: many / medium / few-shot accuracy (mean +- std over seeds)')
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_file)
    plt.close(fig)


def main() -> None:
    args = parse_args()
    # stage-1 runs (and theirs, for chains of stages) come before the methods that start from them
    methods: List[str] = []
    def add(name: str) -> None:
        for before in prerequisites(name):
            add(before)
        if name not in methods:
            methods.append(name)

    for name in args.methods:
        add(name)
    out = osp.abspath(args.work_dir)
    os.makedirs(out, exist_ok=True)
    os.chdir(out)  # the configs' relative data_root (data/digits_lt/) resolves here
    if not osp.isfile(osp.join('data', 'digits_lt', 'meta', 'train.txt')):
        make_digits_lt(osp.join('data', 'digits_lt'))
    tau_sweep = load_tau_sweep() if 'tau-norm' in methods else None
    results: Dict[str, List[Dict[str, float]]] = {n: [] for n in methods}
    start = time.time()
    with tqdm(total=len(methods) * len(args.seeds), desc='Digits-LT benchmark', unit='run') as bar:
        for seed in args.seeds:
            for name in methods:
                bar.set_postfix_str(f'seed {seed} {name}')
                work_dir = osp.join(out, f'seed{seed}', name)
                cached = osp.join(work_dir, 'metrics.json')
                if osp.isfile(cached) and not args.rerun:
                    with open(cached, encoding='utf-8') as f:
                        results[name].append(json.load(f))
                else:
                    stage1_ckpts = [osp.join(out, f'seed{seed}', before, 'epoch_30.pth')
                                    for before in prerequisites(name)]
                    results[name].append(run_method(name, seed, work_dir, stage1_ckpts, tau_sweep))
                    with open(cached, 'w', encoding='utf-8') as f:
                        json.dump(results[name][-1], f)
                bar.update()
                last = results[name][-1]
                tqdm.write(f'seed {seed} {name:>10}: ' + '  '.join(f'{k} {v:6.2f}' for k, v in last.items()))
    for name in set(methods) - set(args.methods) | {n for n in methods if METHODS[n][2] == 'pretrain'}:
        results.pop(name)
    table = summarise(results, args.seeds)
    print(f'\n{table}\n\n({time.time() - start:.0f} s for {len(methods) * len(args.seeds)} runs)')
    with open(osp.join(out, 'results.json'), 'w', encoding='utf-8') as f:
        json.dump({'seeds': args.seeds, 'results': results}, f, indent=1)
    with open(osp.join(out, 'results.md'), 'w', encoding='utf-8') as f:
        f.write(table + '\n')
    plot(results, osp.join(out, 'results.png'))
    print(f'written {osp.join(out, "results.md")}, results.json and results.png')


if __name__ == '__main__':
    main()
