# Decoupling, stage 2, classifier re-training (cRT) on CIFAR-100-LT: the stage-1 ResNet-32 is loaded and frozen, the
# linear classifier re-initialised and trained with class-aware sampling (4 images per class visit). classifier-
# balancing has no CIFAR config; the schedule is MiSLAS' CIFAR-100-LT stage 2 (one GPU x 128, SGD lr 0.1, 10
# epochs, cosine to 0). BatchNorm: 'train' mode as the official cRT (statistics of the 128-image class-balanced
# batches); bn_mode='eval' keeps the stage-1 statistics.
# Train stage 1 first (./stage1-ce_resnet32_1xb128_cifar100-lt-if100_200e.py), then python tools/train.py THIS_CONFIG
_base_ = ['./stage1-ce_resnet32_1xb128_cifar100-lt-if100_200e.py', './_base_/decoupled_stage2.py']
load_from = 'work_dirs/stage1-ce_resnet32_1xb128_cifar100-lt-if100_200e/epoch_200.pth'
# an epoch is cut at floor(N_train / batch) iterations, as the official training loop
train_dataloader = dict(
    sampler=dict(_delete_=True, type='ClassAwareSampler', num_samples_cls=4, num_samples='dataset'), drop_last=True)
# stage 1's SGD; cosine annealing to 0 over 10 epochs instead of its warm-up and steps
max_epochs = 10
param_scheduler = dict(_delete_=True, type='CosineAnnealingLR', T_max=max_epochs, eta_min=0.0, by_epoch=True,
                       begin=0, end=max_epochs)
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
