# Decoupling, stage 2, classifier re-training (cRT; Kang et al., ICLR 2020, classifier-balancing
# config/ImageNet_LT/cls_crt.yaml): the stage-1 backbone is loaded and frozen, the linear classifier re-initialised
# and trained for 10 epochs with class-aware sampling (4 images per class visit), SGD lr 0.2 (batch 512), momentum
# 0.9, weight decay 5e-4, cosine to 0. BatchNorm: 'train' mode as the official code (statistics re-estimated on
# class-balanced batches); bn_mode='eval' keeps the stage-1 statistics.
# Train stage 1 first (./stage1-ce_resnet50_8xb64_imagenet-lt_90e.py), then tools/dist_train.sh THIS_CONFIG 8
_base_ = ['./stage1-ce_resnet50_8xb64_imagenet-lt_90e.py', './_base_/decoupled_stage2.py']
load_from = 'work_dirs/stage1-ce_resnet50_8xb64_imagenet-lt_90e/epoch_90.pth'
# an epoch is cut at floor(N_train / batch) iterations, as the official training loop
train_dataloader = dict(
    sampler=dict(_delete_=True, type='ClassAwareSampler', num_samples_cls=4, num_samples='dataset'), drop_last=True)
# stage 1's SGD and cosine annealing (to 0), over 10 epochs
max_epochs = 10
param_scheduler = dict(T_max=max_epochs, end=max_epochs)
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
