# Decoupling, stage 2, classifier re-training (cRT) on Digits-LT (CPU demo): the stage-1 LeNet-5 is loaded and
# frozen, the classifier re-initialised and trained for 10 epochs with class-aware sampling (4 images per class
# visit), SGD lr 0.05 (batch 32), cosine to 0. LeNet-5 has no BatchNorm, so bn_mode does not matter here.
# python tools/train.py ./stage1-ce_lenet_1xb32_digits-lt_30e.py; python tools/train.py THIS_CONFIG
_base_ = ['./stage1-ce_lenet_1xb32_digits-lt_30e.py', './_base_/decoupled_stage2.py']
load_from = 'work_dirs/stage1-ce_lenet_1xb32_digits-lt_30e/epoch_30.pth'
# an epoch is cut at floor(N_train / batch) iterations, as the official training loop
train_dataloader = dict(
    sampler=dict(_delete_=True, type='ClassAwareSampler', num_samples_cls=4, num_samples='dataset'), drop_last=True)
# stage 1's SGD and cosine annealing (to 0), over 10 epochs
max_epochs = 10
param_scheduler = dict(T_max=max_epochs, eta_min=0.0, end=max_epochs)
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
