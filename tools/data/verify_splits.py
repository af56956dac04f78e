"""Check a data folder against ltmm's split manifest: the published split files and id lists of ImageNet-LT,
Places-LT, iNaturalist 2018, VOC-LT and COCO-MLT, and every image they name.

    python tools/data/verify_splits.py data                         # every benchmark found under data/
    python tools/data/verify_splits.py data --benchmark voc_lt coco_mlt --no-images
    python tools/data/verify_splits.py /datasets/imagenet --benchmark imagenet_lt   # a benchmark's own root
    python tools/data/verify_splits.py data --benchmark places_lt --record          # accept changed files

Names each missing, short or long file (expected and found lines / images), wrong class or per-class count, file
that is not the published one (a known other split, other image ids, bytes that match no published copy, a
published archive's md5), file changed since the first verification, and the images the lists name that are not
on disk (a count and the first few). The first verification of a benchmark without problems records the sha256 of
its files in <benchmark root>/.ltmm_splits.json; later runs, and the datasets at load, report a file that changed.
Exit status 1 on any problem. The manifest and the checks are ltmm/core/split_manifest.{json,py}.
"""
import argparse
import os
import sys
from typing import List, Optional

from tqdm import tqdm

from ltmm.core import split_manifest as sm


def main(argv: Optional[List[str]] = None) -> int:
    """Verify the benchmarks; the exit status: 0 when nothing is wrong, 1 otherwise."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument('--manifest')
    manifest = sm.load_manifest(pre.parse_known_args(argv)[0].manifest)
    benchmarks = manifest['benchmarks']
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog='benchmarks: ' + ', '.join(f'{k} ({b["name"]}, <DATA_ROOT>/{b["root"]})'
                                                                       for k, b in benchmarks.items()))
    parser.add_argument('data_root', metavar='DATA_ROOT', help="the folder of the benchmarks' roots (the configs' "
                        'data/), or one benchmark\'s root with --benchmark')
    parser.add_argument('--benchmark', nargs='+', choices=sorted(benchmarks), metavar='NAME',
                        help='benchmarks to check (default: those whose root is under DATA_ROOT)')
    parser.add_argument('--no-images', action='store_true', help='skip the check of the images on disk')
    parser.add_argument('--record', action='store_true',
                        help='accept changed files: record the current digests when nothing else is wrong')
    parser.add_argument('--manifest', help='a manifest of your own in the same format (default: ltmm\'s, '
                        'ltmm/core/split_manifest.json)')
    args = parser.parse_args(argv)

    if not os.path.isdir(args.data_root):
        print(f'verify_splits: {args.data_root}: not a folder')
        return 1
    keys = args.benchmark or [k for k, b in benchmarks.items()
                              if os.path.isdir(sm.benchmark_root(args.data_root, b))]
    if not keys:
        print(f'verify_splits: {args.data_root} holds none of the benchmark roots '
              f'({", ".join(b["root"] for b in benchmarks.values())}); name one with --benchmark')
        return 1

    def progress(total: int, desc: str) -> tqdm:
        return tqdm(total=total, desc=f'  {desc}', unit='img', unit_scale=True, leave=False)

    summary, failed = [], False
    for key in keys:
        entry = benchmarks[key]
        print(f'{entry["name"]} ({key}): {sm.benchmark_root(args.data_root, entry)}', flush=True)
        report = sm.verify_benchmark(args.data_root, key, manifest, check_images=not args.no_images,
                                     record=args.record, progress=progress)
        for file_report in report.files:
            if file_report.problems:
                for problem in file_report.problems:
                    print(f'  {problem.kind.upper():12s} {problem.message}')
            else:
                matched = f'; matches {", ".join(file_report.matches)}' if file_report.matches else ''
                print(f'  {"ok":12s} {file_report.path}: {file_report.summary}{matched}')
        for problem in report.problems:  # those of no single file: the record, the images
            if all(problem not in f.problems for f in report.files):
                print(f'  {problem.kind.upper():12s} {problem.message}')
        if report.images_checked and not any(p.kind == 'images' for p in report.problems):
            print(f'  {"ok":12s} all {report.images_checked:,} listed images are on disk')
        print(f'  {report.record_note}')
        if any(p.kind != 'changed' for p in report.problems):
            print(f'  to prepare {report.name}: {entry["prepare"]}')
        kinds = sorted({p.kind for p in report.problems})
        failed = failed or bool(report.problems)
        summary.append(f'{report.name}: ' + (f'{len(report.problems)} problem(s) ({", ".join(kinds)})'
                                             if report.problems else 'ok'))
    print('summary:\n  ' + '\n  '.join(summary))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
