# Decoupling, tau-normalisation on CIFAR-100-LT: no training; the stage-1 classifier's weights are divided by their
# norm to the power tau and its bias dropped at test time. CIFAR-100-LT has no val split: as the CIFAR-LT
# literature, tau_sweep.py then picks tau on the test split (say so when you report it).
#   python tools/analysis/tau_sweep.py THIS_CONFIG \
#       work_dirs/stage1-ce_resnet32_1xb128_cifar100-lt-if100_200e/epoch_200.pth
#   python tools/test.py THIS_CONFIG work_dirs/.../epoch_200.pth --cfg-options model.head.tau=<best tau>
_base_ = './stage1-ce_resnet32_1xb128_cifar100-lt-if100_200e.py'
model = dict(head=dict(type='TauNormClsHead', tau=1.0))
load_from = 'work_dirs/stage1-ce_resnet32_1xb128_cifar100-lt-if100_200e/epoch_200.pth'
