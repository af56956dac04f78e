# LFME student on Digits-LT (CPU demo): the LeNet-5 baseline distilled from the three frozen subset experts
# (./lfme-expert-{few,medium,many}_lenet_1xb32_digits-lt_30e.py; train them first), T 2 without T^2, self-paced
# expert weights (decay_thresh 0.3) from the student's per-subset validation accuracy after every epoch (LFMEHook),
# the expert accuracies measured on the validation set before training, and the curriculum instance weights with
# E_half 15 (half the 30 epochs, as the official 45 of 90), their base weights from the experts' confidences on the
# training images before training. Demo subsets: n <= 10 / 11-49 / >= 50.
# python tools/train.py THIS_CONFIG
_base_ = '../baseline/lenet_1xb32_digits-lt_30e.py'
lfme_subsets = [[6, 7, 8, 9], [3, 4, 5], [0, 1, 2]]  # few, medium, many: the official expert order
model = dict(
    type='LFMEClassifier',
    experts=[dict(config=f'configs/lfme/lfme-expert-{name}_lenet_1xb32_digits-lt_30e.py',
                  checkpoint=f'work_dirs/lfme-expert-{name}_lenet_1xb32_digits-lt_30e/epoch_30.pth')
             for name in ('few', 'medium', 'many')],
    head=dict(loss=dict(_delete_=True, type='LFMELoss', class_stats={{_base_.class_stats}}, subsets=lfme_subsets,
                        temperature=2.0, decay_thresh=0.3, curriculum_half_epochs=15)))
# LFME's groups (n <= 10, n >= 50 here) as class-mean accuracies for LFMEHook, next to the standard shot groups
val_evaluator = [dict(type='ShotAccuracy', class_stats={{_base_.class_stats}}),
                 dict(type='ShotAccuracy', class_stats={{_base_.class_stats}}, many_thr=49, few_thr=11,
                      prefix='lfme')]
test_evaluator = val_evaluator
train_cfg = dict(val_interval=1)  # the expert weights follow every validation pass, as the official
custom_hooks = [dict(type='LFMEHook', metric_keys=('lfme/few', 'lfme/medium', 'lfme/many')),
                dict(type='LossEpochHook')]  # the curriculum's epoch
