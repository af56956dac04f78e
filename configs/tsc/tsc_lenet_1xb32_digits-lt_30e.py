# TSC phase 2 on Digits-LT (CPU demo): from the phase-1 checkpoint, 30 epochs (the official phases are equal) of
# TSC's targeted loss with 10 generated targets in 128-d, tw 0.2, k = 6 random positives, T 0.07, a new optimiser and
# cosine (the demo schedule). Then ./tsc-linear_lenet_1xb32_digits-lt_10e.py.
# python tools/train.py ./tsc-stage1-kcl_lenet_1xb32_digits-lt_30e.py; python tools/train.py THIS_CONFIG
_base_ = './tsc-stage1-kcl_lenet_1xb32_digits-lt_30e.py'
load_from = 'work_dirs/tsc-stage1-kcl_lenet_1xb32_digits-lt_30e/epoch_30.pth'
model = dict(contrast_loss=dict(
    _delete_=True, type='TSCLoss', num_classes={{_base_.num_classes}}, feat_dim=128, temperature=0.07,
    num_positives=6, sampling='random', target_weight=0.2, centroid_momentum=0.9))
