# NCL (Li et al., CVPR 2022), 3 x ResNet-32 on CIFAR-100-LT (imbalance factor 100), the official run without the
# contrastive branch (Bazinga699/NCL config/CIFAR/CIFAR100/cifar100_im100_NCL.yaml, lib/dataset/cui_cifar.py,
# lib/utils/lr_scheduler.py): NCLLoss HCM_N 30, NBOD factor 0.6; one GPU x 64, SGD nesterov lr 0.1, momentum 0.9,
# weight decay 2e-4, 400 epochs; warm-up factor 1/3 + (2/3) e / 5 for the 1-based epochs e < 5 (stepped at the start of
# each epoch), x0.1 from the 1-based epoch 320 and again from 360; crop 32 pad 4 + flip + AutoAugment CIFAR10Policy +
# Cutout 16 (the hard-coded MULTI_NETWORK_CIFAR_AUGPLIS pipeline). Network: ./_base_/ncl_resnet32_cifar.py.
# python tools/train.py THIS_CONFIG
_base_ = ['./_base_/ncl_resnet32_cifar.py', '../_base_/datasets/cifar100_lt.py',
          '../_base_/datasets/paco_augmentation.py', '../_base_/default_runtime_cls.py']
max_epochs = 400
model = dict(num_classes={{_base_.num_classes}}, loss=dict(class_stats={{_base_.class_stats}}))
# the shared view list as one transform (a base variable cannot be spliced into a list)
train_pipeline = [dict(type='RandomApply', transforms={{_base_.cifar_regular_view}}, prob=1.0),
                  dict(type='PackInputs')]
train_dataloader = dict(batch_size=64, dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=2e-4, nesterov=True))
param_scheduler = [
    # the official factors of the 0-based epochs 0..4: 7/15, 9/15, 11/15, 13/15, 1 (LinearLR reaches end_factor at
    # epoch end - 1)
    dict(type='LinearLR', start_factor=7 / 15, end_factor=1.0, by_epoch=True, begin=0, end=5),
    # the official 1-based milestones 320 and 360 are the 0-based epochs 319 and 359
    dict(type='MultiStepLR', milestones=[319, 359], gamma=0.1, by_epoch=True, begin=0, end=max_epochs),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=64)
