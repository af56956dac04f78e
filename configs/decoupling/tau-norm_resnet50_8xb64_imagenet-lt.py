# Decoupling, tau-normalisation (Kang et al., ICLR 2020, classifier-balancing tau_norm.py): no training; the
# stage-1 classifier's weights are divided by their norm to the power tau and its bias dropped at test time.
# Choose tau on the val split, then test with it:
#   python tools/analysis/tau_sweep.py THIS_CONFIG \
#       work_dirs/stage1-ce_resnet50_8xb64_imagenet-lt_90e/epoch_90.pth
#   python tools/test.py THIS_CONFIG work_dirs/.../epoch_90.pth --cfg-options model.head.tau=<best tau>
_base_ = './stage1-ce_resnet50_8xb64_imagenet-lt_90e.py'
model = dict(head=dict(type='TauNormClsHead', tau=1.0))
load_from = 'work_dirs/stage1-ce_resnet50_8xb64_imagenet-lt_90e/epoch_90.pth'
