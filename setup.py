"""ltmm: long-tailed recognition methods as OpenMMLab (mmdet / mmpretrain) plugins."""
from pathlib import Path

from setuptools import find_packages, setup

ROOT = Path(__file__).parent


def read_version() -> str:
    namespace: dict = {}
    exec((ROOT / 'ltmm' / 'version.py').read_text(), namespace)
    return namespace['__version__']


setup(
    name='ltmm',
    version=read_version(),
    description='Long-tailed recognition toolbox on OpenMMLab: losses, heads, samplers, metrics, tools.',
    long_description=(ROOT / 'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.10',
    packages=find_packages(include=['ltmm', 'ltmm.*']),
    package_data={'ltmm.core': ['split_manifest.json']},  # the published split files (tools/data/verify_splits.py)
    # torch, mmcv (built with ops) and the OpenMMLab packages are installed by tools/install.sh
    # (see requirements/): mmcv has no wheel on PyPI and mmengine/lvis pull the GUI OpenCV.
    install_requires=['numpy', 'tqdm', 'matplotlib', 'pycocotools'],
    # the LVIS evaluator's command line: numpy and pycocotools only (ltmm/core/lvis_eval_cli.py)
    entry_points={'console_scripts': ['ltmm-lvis-eval = ltmm.core.lvis_eval_cli:main']},
    classifiers=[
        'Programming Language :: Python :: 3',
        'License :: OSI Approved :: Apache Software License',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
)
