# SHIKE (Jin et al., CVPR 2023), 3 experts, DKF ResNet-32 on CIFAR-100-LT (imbalance factor 100), the official and only
# released recipe (jinyan-06/SHIKE@2b04b62d cifarTrain.py, utils.py): one GPU x 128, 200 epochs; DKT (SHIKELoss) for
# epochs 0-179, then the re-trained classifiers (balanced softmax, the rest frozen, BatchNorm statistics still
# updating) for epochs 180-199 in the same run; SGD momentum 0.9, weight decay 5e-4 with the official two
# CosineAnnealingLRWarmup schedules (SHIKEWarmupCosineLR at the reference lr 0.05): 0.025 ... 0.125 over epochs 0-4,
# cosine from 0.15 at epoch 5 to 0 at epoch 180; then 0.0375 ... 0.0875 over epochs 180-184 and cosine from 0.1 to
# 0.0011 at epoch 199. Crop 32 pad 4 + flip + AutoAugment CIFAR10Policy + Cutout 16 (the official 'advanced_train'),
# the training subset the first n_i images of each class, unshuffled (the official imbalanced_cifar.py: seed=None).
# The official run uses AMP (autocast + GradScaler): add --amp on a GPU. Network: ./_base_/shike_resnet32.py.
# python tools/train.py THIS_CONFIG
_base_ = ['./_base_/shike_resnet32.py', '../_base_/datasets/cifar100_lt.py', '../_base_/datasets/paco_augmentation.py',
          '../_base_/default_runtime_cls.py']
max_epochs = 200
retrain_epoch = 180  # the official --cornerstone
model = dict(head=dict(num_classes={{_base_.num_classes}}, retrain_epoch=retrain_epoch,
                       loss=dict(class_stats={{_base_.class_stats}}),
                       retrain_loss=dict(class_stats={{_base_.class_stats}})))
# the shared view list as one transform (a base variable cannot be spliced into a list)
train_pipeline = [dict(type='RandomApply', transforms={{_base_.cifar_regular_view}}, prob=1.0),
                  dict(type='PackInputs')]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline, seed=None))
param_scheduler = [
    dict(type='SHIKEWarmupCosineLR', warmup_epochs=5, peak_factor=3.0, by_epoch=True, begin=0, end=retrain_epoch),
    dict(type='SHIKEWarmupCosineLR', warmup_epochs=5, peak_factor=2.0, by_epoch=True, begin=retrain_epoch,
         end=max_epochs),
]
custom_hooks = [
    dict(type='LossEpochHook'),  # tells SHIKEClsHead the epoch (its stage)
    dict(type='DecoupledStageHook', start_epoch=retrain_epoch, frozen_modules=('backbone', 'neck', 'head.classifiers'),
         bn_mode='train'),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=128)
