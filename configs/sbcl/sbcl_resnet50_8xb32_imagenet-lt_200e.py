# SBCL phase 2 on ImageNet-LT (JackHck/SBCL moco/sbcl.py, loss.py SupConLoss_rank): from the phase-1 KCL checkpoint
# (model, key encoder and queue), 200 epochs of SBCL's queue loss: subclass term at T 0.07 (positives: own key + queue
# keys of the anchor's subclass), class term at 0.12 weighted 0.2 (positives: own key + same class, other subclass;
# denominator: own key + queue keys outside the anchor's subclass). Before phase-2 epochs 0, 5, 10, ... (--step 5) the
# key encoder's normalised projections (eval mode) of view 0 of the training pipeline are clustered per class into
# max(1, n_c // max(n_min, 20)) subclasses (--cluster 20); the queue keeps the subclass ids its keys were enqueued
# with (stale ids after a re-clustering, as the official). The official run restarts with a new SGD optimiser
# (lr 0.1, weight decay 1e-4) and a new cosine over the 200 epochs: a new run with load_from does the same.
# Then ./sbcl-linear_resnet50_4xb512_imagenet-lt_40e.py. tools/dist_train.sh THIS_CONFIG 8
_base_ = './sbcl-stage1-kcl_resnet50_8xb32_imagenet-lt_200e.py'
load_from = 'work_dirs/sbcl-stage1-kcl_resnet50_8xb32_imagenet-lt_200e/epoch_200.pth'
model = dict(
    extra_id_fields=('sample_idx', ),
    contrast_loss=dict(_delete_=True, type='SBCLQueueLoss', num_classes={{_base_.num_classes}}, temperature=0.07,
                       class_temperature=0.12, gamma=0.2))
# the official feature loader: batch 5 x the per-GPU batch, workers as training
custom_hooks = [dict(type='SBCLClusterHook', interval=5, start_epoch=0, cluster_size=20, batch_size=160,
                     num_workers=8)]
