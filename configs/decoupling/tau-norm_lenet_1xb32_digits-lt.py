# Decoupling, tau-normalisation on Digits-LT (CPU demo): the stage-1 classifier, tau-normalised at test time.
#   python tools/analysis/tau_sweep.py THIS_CONFIG \
#       work_dirs/stage1-ce_lenet_1xb32_digits-lt_30e/epoch_30.pth
#   python tools/test.py THIS_CONFIG work_dirs/stage1-ce_lenet_1xb32_digits-lt_30e/epoch_30.pth \
#       --cfg-options model.head.tau=<best tau>
_base_ = './stage1-ce_lenet_1xb32_digits-lt_30e.py'
model = dict(head=dict(type='TauNormClsHead', tau=1.0))
load_from = 'work_dirs/stage1-ce_lenet_1xb32_digits-lt_30e/epoch_30.pth'
