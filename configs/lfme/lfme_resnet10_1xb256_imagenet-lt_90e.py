# LFME student on ImageNet-LT, the official run (xiangly55/LFME config/ImageNet_LT/LFME.py, run_network_LFME.py):
# ResNet-10 (./_base_/lfme_resnet10_imagenet-lt.py) distilled from the three frozen subset experts (few, medium,
# many: ./lfme-expert-*_resnet10_*_imagenet-lt_120e.py; train them first), T 2 without T^2, self-paced expert
# weights (decay_thresh 0.3) from the student's per-subset val accuracy after every epoch, the curriculum instance
# weights with E_half 45; class-aware sampling, 4 images per visited class, epochs cut at 452 iterations of 256
# (115,846 // 256); 1 GPU x 256, SGD lr 0.1, momentum 0.9, weight decay 5e-4, 90 epochs, lr x 0.1 from the 50th and
# the 80th (the official MultiStepLR(50, 80) stepped before each epoch). tools/train.py THIS_CONFIG
_base_ = './_base_/lfme_resnet10_imagenet-lt.py'
model = dict(
    type='LFMEClassifier',
    experts=[dict(config=f'configs/lfme/lfme-expert-{name}_resnet10_1xb{batch}_imagenet-lt_120e.py',
                  checkpoint=f'work_dirs/lfme-expert-{name}_resnet10_1xb{batch}_imagenet-lt_120e/epoch_120.pth')
             for name, batch in (('few', 32), ('medium', 64), ('many', 128))],
    # subsets from the counts: n <= 20 / 21-99 / >= 100, few first as the experts
    head=dict(loss=dict(_delete_=True, type='LFMELoss', class_stats={{_base_.class_stats}}, temperature=2.0,
                        decay_thresh=0.3, curriculum_half_epochs=45)))
train_dataloader = dict(batch_size=256, sampler=dict(_delete_=True, type='ClassAwareSampler', num_samples_cls=4,
                                                     num_samples=452 * 256))
# LFME's groups (n <= 20, n >= 100) as class-mean accuracies for LFMEHook, next to the standard shot groups
val_evaluator = [dict(type='ShotAccuracy', class_stats={{_base_.class_stats}}),
                 dict(type='ShotAccuracy', class_stats={{_base_.class_stats}}, many_thr=99, few_thr=21,
                      prefix='lfme')]
test_evaluator = val_evaluator
param_scheduler = dict(_delete_=True, type='MultiStepLR', milestones=[49, 79], gamma=0.1, by_epoch=True, begin=0,
                       end={{_base_.max_epochs}})
train_cfg = dict(val_interval=1)  # the expert weights follow every val pass
auto_scale_lr = dict(base_batch_size=256)
custom_hooks = [dict(type='LFMEHook', metric_keys=('lfme/few', 'lfme/medium', 'lfme/many')),
                dict(type='LossEpochHook')]  # the curriculum's epoch
