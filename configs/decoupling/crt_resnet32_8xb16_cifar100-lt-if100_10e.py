# Decoupling, stage 2, classifier re-training (cRT) on CIFAR-100-LT: the stage-1 ResNet-32 is loaded and frozen, the
# linear classifier re-initialised and trained with class-aware sampling (4 images per class visit). classifier-
# balancing has no CIFAR config; the schedule is MiSLAS' CIFAR-100-LT stage 2 (10 epochs, SGD lr 0.1 for batch
# 128, cosine to 0). BatchNorm: 'train' mode as the official cRT; bn_mode='eval' keeps the stage-1 statistics.
# Train stage 1 first (./stage1-ce_resnet32_8xb16_cifar100-lt-if100_200e.py), then tools/dist_train.sh THIS_CONFIG 8
_base_ = './stage1-ce_resnet32_8xb16_cifar100-lt-if100_200e.py'
load_from = 'work_dirs/stage1-ce_resnet32_8xb16_cifar100-lt-if100_200e/epoch_200.pth'
custom_hooks = [dict(type='DecoupledStageHook', frozen_modules=('backbone', 'neck'), bn_mode='train',
                     reinit_head=True)]
# DDP is built before the hook freezes the backbone
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
# an epoch is cut at floor(N_train / batch) iterations, as the official training loop
train_dataloader = dict(sampler=dict(_delete_=True, type='ClassAwareSampler', num_samples_cls=4,
                                     num_samples='dataset'),
                        drop_last=True)
max_epochs = 10
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=2e-4))
param_scheduler = dict(_delete_=True, type='CosineAnnealingLR', T_max=max_epochs, eta_min=0.0, by_epoch=True,
                       begin=0, end=max_epochs)
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
