# CC-SAM stage 1 (Zhou et al., CVPR 2023; zzpustc/CC-SAM configs/Cifar100.json, train_cifar.py `train`): ResNet-32 on
# CIFAR-100-LT IF 100, the whole network trained with input mixup (alpha 1.0) and the class-conditional perturbation of
# the classifier (CCSAMClsHead: noise_ratio r = 1e-6, flat_ratio 0.5). One GPU x 64 (the official batch), SGD lr 0.1,
# momentum 0.9, weight decay 2e-4, 200 epochs, drop_last (the official stage-1 loader), each epoch at the official lr:
# WarmupMultiStepLR is stepped at each epoch start, so 0-indexed epoch e runs at last_epoch e + 1: factors 7/15, 9/15,
# 11/15, 13/15, 1 over epochs 0-4, x0.1 from epoch 159 and again from 179. Its last checkpoint is what stage 2 loads.
# python tools/train.py THIS_CONFIG
_base_ = '../baseline/resnet32_1xb128_cifar100-lt-if100_200e.py'
model = dict(
    head=dict(type='CCSAMClsHead', class_stats={{_base_.class_stats}}, stage=1, noise_ratio=1e-6, flat_ratio=0.5,
              loss=dict(use_soft=True)),
    train_cfg=dict(augments=dict(type='Mixup', alpha=1.0)))
train_dataloader = dict(batch_size=64, drop_last=True)
optim_wrapper = dict(optimizer=dict(lr=0.1, momentum=0.9, weight_decay=2e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=7 / 15, end_factor=1.0, by_epoch=True, begin=0, end=5),
    dict(type='MultiStepLR', milestones=[159, 179], gamma=0.1, by_epoch=True, begin=0, end=200),
]
auto_scale_lr = dict(base_batch_size=64)
